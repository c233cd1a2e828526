#!/usr/bin/env bash
# Quick start: installs, builds and runs `refgate serve` on its embedded
# defaults (data in ./data), then creates a demo code you can click.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build -DCMAKE_BUILD_TYPE=Release -DREFGATE_TESTS=OFF -DREFGATE_BENCH=OFF

build/refgate serve "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

# The admin address and token, from the defaults or the flags given.
admin="127.0.0.1:8081"
for ((i = 0; i < 50; i++)); do
  curl -fsS "http://$admin/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token=${REFGATE_ADMIN_TOKEN:-$(cat data/admin.token 2>/dev/null || true)}
if [ -n "$token" ] && curl -fsS "http://$admin/healthz" >/dev/null 2>&1; then
  curl -sS -o /dev/null -X POST "http://$admin/api/v1/codes" \
    -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"code": "demo", "referrer_id": "demo_referrer", "utm": {"source": "demo", "medium": "link"}}' || true
  echo
  echo "Try it:   curl -i http://127.0.0.1:8080/demo    (or open it in a browser)"
  echo "Admin:    token in data/admin.token; see README.md for the API"
  echo "Stop:     Ctrl-C"
fi
wait $pid
