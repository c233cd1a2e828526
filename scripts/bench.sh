#!/usr/bin/env bash
# Builds Release, runs the micro-benchmarks and the load comparison against
# nginx, and writes the results table to bench/RESULTS.md.
#   scripts/bench.sh [--quick]     (--quick: shorter runs)
set -euo pipefail
cd "$(dirname "$0")/.."
REFGATE_EXTRA_PACKAGES="nginx-light wrk valgrind" scripts/setup.sh build-release \
  -DCMAKE_BUILD_TYPE=Release -DREFGATE_TESTS=OFF -DREFGATE_BENCH=ON
min_time=2; rounds=3; scale_codes=${REFGATE_SCALE_CODES:-100000,10000000}; compact_records=10000000
if [ "${1:-}" = "--quick" ]; then
  min_time=0.5; rounds=1; scale_codes=100000,1000000; compact_records=1000000
fi
out=bench/RESULTS.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

REFGATE_BENCH_DIR="$tmp/bench-data" build-release/bench/refgate_bench \
  --benchmark_min_time="$min_time" --benchmark_format=console 2>/dev/null | grep -E '^BM_' > "$tmp/micro.txt"
python3 ../shared/bench/compare_nginx.py --refgate build-release/refgate --durability sync \
  --rounds "$rounds" --floor > "$tmp/nginx.txt" 2>&1 || true
# The same comparison with 1,000 durable events/s posted to refgate meanwhile
# (bench/events_pacer.cc, started by bench/refgate_with_events.sh).
REFGATE_BIN="$PWD/build-release/refgate" EVENTS_RATE=1000 EVENTS_OUT="$tmp/pacer.txt" \
  python3 ../shared/bench/compare_nginx.py --refgate bench/refgate_with_events.sh --durability sync \
  --rounds "$rounds" > "$tmp/nginx_events.txt" 2>&1 || true
# Webhooks (SPEC §7) delivered to a local receiver meanwhile: compaction every
# 2 s and 100 events/s naming a code, without a webhook URL (the control) and with.
for w in 0 1; do
  WEBHOOKS=$w REFGATE_BIN="$PWD/build-release/refgate" EVENTS_RATE=100 \
    WEBHOOKS_OUT="$tmp/hooks$w.txt" EVENTS_OUT="$tmp/pacer$w.txt" \
    python3 ../shared/bench/compare_nginx.py --refgate bench/refgate_with_webhooks.sh \
    --durability sync --rounds "$rounds" > "$tmp/nginx_hooks$w.txt" 2>&1 || true
done
python3 bench/scale_codes.py --refgate build-release/refgate --codes "$scale_codes" \
  --work-dir "$tmp" > "$tmp/scale.txt" 2>&1 || true
python3 bench/callgrind_server.py --refgate build-release/refgate > "$tmp/callgrind.txt" 2>&1 || true
# Compaction against DuckDB: with 1% events in one part (a memory bound it
# never reaches), then with the default [rollup] max_memory_mb, then clicks
# only; each followed by an incremental run of 100k records on top of the
# state it built.
for run in "--events-percent 1 --max-memory-mb 65536" "--events-percent 1" "--events-percent 0"; do
  # shellcheck disable=SC2086  # $run is options, split on purpose
  python3 bench/compaction_vs_duckdb.py --records "$compact_records" \
    --increment 100000 $run --dir "$tmp/compact" >> "$tmp/compact.txt" 2>&1 || true
  rm -rf "$tmp/compact"
done
# Cluster mode: shipping a node's log to a JetStream server.
bench/ship_bench.sh build-release > "$tmp/ship.txt" 2>&1 || true

{
  echo "# refgate benchmark results"
  echo
  echo "Made by \`scripts/bench.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), "\
"$(free -g | awk '/Mem:/ {print $2}') GiB memory, $(uname -r), filesystem $(df -T . | awk 'NR==2 {print $2}')."
  echo "Shared machines are noisy: compare ratios from one run, not absolute numbers across runs."
  echo
  echo "## Load: refgate (durability sync) against nginx and a do-nothing C server"
  echo
  echo '```'
  grep -E '^(#|median|ratio)' "$tmp/nginx.txt" || cat "$tmp/nginx.txt"
  echo '```'
  echo
  echo "## Load with 1,000 durable events/s arriving meanwhile"
  echo
  echo "As above, with \`bench/refgate_with_events.sh\` posting sale events to the admin listener"
  echo "through the whole run, nginx's rounds included. refgate's CPU counts the events' work."
  echo
  echo '```'
  grep -E '^(#|median|ratio)' "$tmp/nginx_events.txt" || cat "$tmp/nginx_events.txt"
  cat "$tmp/pacer.txt" 2>/dev/null || true
  echo '```'
  echo
  echo "## Load with webhooks delivered meanwhile"
  echo
  echo "\`bench/refgate_with_webhooks.sh\`: refgate compacts every 2 s while 100 sale events/s"
  echo "naming one code arrive, each announced twice (event.attributed, reward.payable) to"
  echo "\`bench/webhook_receiver.py\`; first without a webhook URL (the control), then with."
  echo "refgate's CPU counts the compactions' and the deliveries' work."
  echo
  echo '\`\`\`'
  for w in 0 1; do
    echo "# webhooks=$w"
    grep -E '^(median|ratio)' "$tmp/nginx_hooks$w.txt" || cat "$tmp/nginx_hooks$w.txt"
    cat "$tmp/hooks$w.txt" "$tmp/pacer$w.txt" 2>/dev/null || true
  done
  echo '\`\`\`'
  echo
  echo "## Instructions per redirect, whole server (\`bench/callgrind_server.py\`)"
  echo
  echo "Stable where timings are not: compare this figure across commits."
  echo
  echo '```'
  cat "$tmp/callgrind.txt"
  echo '```'
  echo
  echo "## Scale: codes loaded through the batch API (\`bench/scale_codes.py\`)"
  echo
  echo "Redirects to codes drawn uniformly at random from all of them; the read cache"
  echo "holds [storage] cache_entries (default 1,000,000) codes, so at 10M most lookups read RocksDB."
  echo "One cached code costs $(awk '/BM_HotCacheBytesPerCode/ {for (i=1; i<=NF; i++) if ($i ~ /^bytes_per_code=/) {sub("bytes_per_code=", "", $i); printf "%.0f", $i}}' "$tmp/micro.txt") bytes of RSS (BM_HotCacheBytesPerCode)."
  echo
  cat "$tmp/scale.txt"
  echo
  echo "## Compaction against DuckDB (\`bench/compaction_vs_duckdb.py\`)"
  echo
  echo "The same generated records (1% conversion events) as a click log for \`refgate compact\` and as"
  echo "CSV for DuckDB, which computes every table compact writes (codes, channels, referrers with"
  echo "distinct visitors; each sale's last click within 30 days) in memory. First in one part"
  echo "(\`--max-memory-mb 65536\`), then with the default \`[rollup] max_memory_mb\` (1024): a run"
  echo "past it commits at a 64 MiB segment's end and goes on; then clicks only (no events) with the"
  echo "default bound. Each is followed by an incremental run of 100,000 new records on top of the"
  echo "state the first built."
  echo
  echo '```'
  grep -vE '^$' "$tmp/compact.txt" || true
  echo '```'
  echo
  echo "## Cluster mode: shipping a node's log"
  echo
  echo "\`bench/ship_bench.sh\`: 1M generated clicks shipped as a cluster node ships its log"
  echo "(checksummed records in batches, one message id and expected sequence per batch, each"
  echo "acknowledged before the next) to one local \`nats-server -js\`."
  echo
  echo '```'
  grep -E '^(#|shipped)' "$tmp/ship.txt" || cat "$tmp/ship.txt"
  echo '```'
  echo
  cat bench/PROFILE.md
  echo
  echo "## Micro-benchmarks (Google Benchmark)"
  echo
  echo "BM_Hot*: one redirect's stages on one core (bench/hotpath_bench.cc). BM_Log*, BM_Raw*:"
  echo "the click log beside the raw disk (bench/clicklog_bench.cc)."
  echo
  echo "In the names, durability:0 is \"sync\" and durability:2 is \"none\"; window is the number"
  echo "of sessions each thread keeps waiting on a durable click."
  echo
  echo "| benchmark | time | CPU | throughput |"
  echo "|---|---|---|---|"
  awk '{ name=$1; t=$2" "$3; c=$4" "$5; tp=""; for (i=7; i<=NF; i++) tp=tp" "$i; print "| " name " | " t " | " c " |" tp " |" }' "$tmp/micro.txt"
} > "$out"
echo "wrote $out"
