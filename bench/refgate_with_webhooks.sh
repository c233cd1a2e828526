#!/usr/bin/env bash
# compare_nginx.py's --refgate with webhooks delivered meanwhile (SPEC §7):
# refgate compacts every 2 s and announces each decision to a local
# receiver (bench/webhook_receiver.py), while refgate_events_pacer posts
# sales naming one referral code, so that each is attributed and then
# payable: two deliveries per event.
#   REFGATE_BIN=build-release/refgate EVENTS_RATE=100 WEBHOOKS_OUT=/tmp/hooks.txt \
#     python3 ../shared/bench/compare_nginx.py --refgate bench/refgate_with_webhooks.sh
# WEBHOOKS=0: the same compaction and events with no webhook URL, the
# control that tells what the deliveries themselves cost.
set -euo pipefail
bin="${REFGATE_BIN:-build-release/refgate}"
out="${WEBHOOKS_OUT:-/tmp/refgate-webhooks.txt}"
here="$(cd "$(dirname "$0")" && pwd)"
args=("$@")
admin=""
for i in "${!args[@]}"; do
  [ "${args[$i]}" = "--admin-listen" ] && admin="${args[$((i + 1))]}"
  if [ "${args[$i]}" = "--config" ]; then
    config="${args[$((i + 1))]}"
    hooked="${config%.toml}.webhooks.toml"
    args[$((i + 1))]="$hooked"
  fi
done
port_file="$(mktemp -u)"
python3 "$here/webhook_receiver.py" "$port_file" "$out" $$ &
while [ ! -s "$port_file" ]; do sleep 0.05; done
sed 's/^interval_s = 0$/interval_s = 2/' "$config" > "$hooked"
url="http://127.0.0.1:$(cat "$port_file")/hook"
[ "${WEBHOOKS:-1}" = "0" ] && url=""
printf '[webhooks]\nurl = "%s"\nsecret = "bench-webhook-secret"\n[rewards]\nhold_days = 0\n' \
  "$url" >> "$hooked"
rm -f "$port_file"
# Once the admin listener answers: the code the sales name, then the pacer.
(
  base="http://$admin"
  until curl -sf "$base/healthz" >/dev/null; do sleep 0.05; done
  curl -sf -X POST "$base/api/v1/codes" -H "Authorization: Bearer $REFGATE_ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d '{"code": "bench-hook", "referrer_id": "hook_ref"}' >/dev/null
  exec "${PACER_BIN:-$(dirname "$bin")/bench/refgate_events_pacer}" "${admin%:*}" "${admin##*:}" \
    "${EVENTS_RATE:-100}" "${EVENTS_OUT:-/tmp/refgate-events-pacer.txt}" bench-hook
) &
exec "$bin" "${args[@]}"
