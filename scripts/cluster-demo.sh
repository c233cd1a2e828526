#!/usr/bin/env bash
# Cluster mode for a newcomer (SPEC §8): installs what is missing, builds,
# starts 3 NATS JetStream servers and 2 refgate nodes on loopback (node a
# the rollup node), creates a code on node a and clicks it on node b, rolls
# the cluster's clicks up on node a, prints its referrers.csv and
# `refgate cluster status`, then stops everything (by PID) and removes its scratch directory.
#   scripts/cluster-demo.sh [--keep]   (--keep: leave it running until Ctrl-C)
# Ports: NATS clients 14222-14224, NATS routes 16222-16224, node a 18080
# (admin 18081), node b 18090 (admin 18091). A port already taken is an
# error: the demo never talks to someone else's server.
set -euo pipefail
cd "$(dirname "$0")/.."
# REFGATE_BIN: a refgate already built (then nothing is installed or built).
bin=${REFGATE_BIN:-build-demo/refgate}
if [ -z "${REFGATE_BIN:-}" ]; then
  REFGATE_EXTRA_PACKAGES="nats-server ${REFGATE_EXTRA_PACKAGES:-}" \
    scripts/setup.sh build-demo -DCMAKE_BUILD_TYPE=Release -DREFGATE_TESTS=OFF -DREFGATE_BENCH=OFF
fi
keep=${1:-}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in 14222 14223 14224 16222 16223 16224 18080 18081 18090 18091; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "cluster-demo: port $port is taken; stop what listens there first" >&2
    exit 1
  fi
done

for i in 0 1 2; do
  routes=""
  for j in 0 1 2; do [ "$j" = "$i" ] || routes+="nats://127.0.0.1:$((16222 + j)),"; done
  cat > "$tmp/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((14222 + i))
jetstream { store_dir: "$tmp/nats$i" }
cluster { name: demo, listen: 127.0.0.1:$((16222 + i)), routes: [${routes%,}] }
CONF
  nats-server -c "$tmp/n$i.conf" > "$tmp/n$i.log" 2>&1 &
  pids+=($!)
done

export REFGATE_ADMIN_TOKEN=demo-token-0123456789abcdef
urls='"nats://127.0.0.1:14222", "nats://127.0.0.1:14223", "nats://127.0.0.1:14224"'
for node in a b; do
  port=$([ "$node" = a ] && echo 18080 || echo 18090)
  cat > "$tmp/$node.toml" <<CONF
[server]
listen = "127.0.0.1:$port"
admin_listen = "127.0.0.1:$((port + 1))"
[storage]
data_dir = "$tmp/data-$node"
[cluster]
nats_urls = [$urls]
node_id = "$node"
rollup = $([ "$node" = a ] && echo true || echo false)
CONF
  "$bin" serve --config "$tmp/$node.toml" > "$tmp/$node.log" 2>&1 &
  pids+=($!)
done

wait_for() {  # wait_for FILE TEXT: until a node says it (60 s at most)
  for _ in $(seq 600); do grep -q "$2" "$1" && return 0; sleep 0.1; done
  echo "cluster-demo: $1 never said '$2':" >&2
  cat "$1" >&2
  exit 1
}
wait_for "$tmp/a.log" "codes in sync"
wait_for "$tmp/b.log" "codes in sync"
echo "== 3 NATS servers and nodes a, b are up"

echo "== POST /api/v1/codes on node a"
curl -sS -X POST http://127.0.0.1:18081/api/v1/codes \
  -H "Authorization: Bearer $REFGATE_ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"code": "demo", "referrer_id": "alice"}'
echo
echo "== GET /demo?utm_source=email on node b"
for _ in $(seq 100); do  # the feed brings it within milliseconds
  status=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18090/demo)
  [ "$status" = 302 ] && break
  sleep 0.01
done
curl -sS -o /dev/null -D - "http://127.0.0.1:18090/demo?utm_source=email" | grep -iE '^(HTTP|location)'
for _ in $(seq 100); do  # until node b has shipped its clicks
  curl -s http://127.0.0.1:18091/metrics | grep -q '^refgate_cluster_ship_lag_records 0$' && break
  sleep 0.05
done
echo "== refgate compact on node a, the rollup node, until node b's clicks are there"
for _ in $(seq 100); do
  "$bin" compact --config "$tmp/a.toml" > /dev/null
  # both of node b's clicks (curl is a bot: bot_clicks)
  awk -F, '$1 == "alice" && $3 + $5 >= 2 { found = 1 } END { exit !found }' \
    "$tmp/data-a/rollups/referrers.csv" 2>/dev/null && break
  sleep 0.05
done
cat "$tmp/data-a/rollups/referrers.csv"
echo "== refgate cluster status (on node a)"
"$bin" cluster status --config "$tmp/a.toml"
if [ "$keep" = --keep ]; then
  echo "== running; Ctrl-C stops it all (logs in $tmp)"
  wait
fi
