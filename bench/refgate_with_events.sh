#!/usr/bin/env bash
# compare_nginx.py's --refgate with conversion events arriving meanwhile:
# starts refgate_events_pacer (bench/events_pacer.cc) against the admin
# listener it is given, then runs refgate in its place.
#   REFGATE_BIN=build-release/refgate EVENTS_RATE=1000 EVENTS_OUT=/tmp/pacer.txt \
#     python3 ../shared/bench/compare_nginx.py --refgate bench/refgate_with_events.sh
bin="${REFGATE_BIN:-build-release/refgate}"
admin=""
prev=""
for a in "$@"; do
  [ "$prev" = "--admin-listen" ] && admin="$a"
  prev="$a"
done
"${PACER_BIN:-$(dirname "$bin")/bench/refgate_events_pacer}" "${admin%:*}" "${admin##*:}" \
  "${EVENTS_RATE:-1000}" "${EVENTS_OUT:-/tmp/refgate-events-pacer.txt}" &
exec "$bin" "$@"
