#!/usr/bin/env bash
# Log shipping throughput (SPEC §8): a log of N generated clicks
# (refgate_loggen) shipped by bench/ship_bench.cc to one local
# `nats-server -js`, with batches of 1,000 and of 250 records; each run then
# takes the whole stream into a rollup node's copy (the second run's copy
# holds both runs' records).
#   bench/ship_bench.sh BUILD_DIR [N]
set -euo pipefail
build=${1:?usage: bench/ship_bench.sh BUILD_DIR [N]}
n=${2:-1000000}
tmp=$(mktemp -d)
nats_pid=""
cleanup() {
  if [ -n "$nats_pid" ]; then kill -9 "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/bench/refgate_loggen" "$tmp/data" "$n" > /dev/null
nats-server -js -a 127.0.0.1 -p -1 -sd "$tmp/nats" --ports_file_dir "$tmp" > "$tmp/nats.log" 2>&1 &
nats_pid=$!
url=""
for _ in $(seq 1000); do  # until the server has written its ports file
  url=$(grep -o 'nats://127.0.0.1:[0-9]*' "$tmp"/nats-server_*.ports 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.01
done
[ -n "$url" ] || { cat "$tmp/nats.log"; exit 1; }
echo "# $n records, one nats-server 2.9 on loopback, replicas 1, $(nproc) cores"
for batch in 1000 250; do
  "$build/bench/refgate_ship_bench" "$url" "$tmp/data" "bench$batch" "$batch" | tail -2
done
