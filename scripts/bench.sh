#!/usr/bin/env bash
# Builds Release, runs the micro-benchmarks and the load comparison against
# nginx, and writes the results table to bench/RESULTS.md.
#   scripts/bench.sh [--quick]     (--quick: shorter runs)
set -euo pipefail
cd "$(dirname "$0")/.."
REFGATE_EXTRA_PACKAGES="nginx-light wrk" scripts/setup.sh build-release \
  -DCMAKE_BUILD_TYPE=Release -DREFGATE_TESTS=OFF -DREFGATE_BENCH=ON
min_time=2; rounds=3
if [ "${1:-}" = "--quick" ]; then min_time=0.5; rounds=1; fi
out=bench/RESULTS.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

REFGATE_BENCH_DIR="$tmp/bench-data" build-release/bench/refgate_bench \
  --benchmark_min_time="$min_time" --benchmark_format=console 2>/dev/null | grep -E '^BM_' > "$tmp/micro.txt"
python3 ../shared/bench/compare_nginx.py --refgate build-release/refgate --durability sync \
  --rounds "$rounds" --floor > "$tmp/nginx.txt" 2>&1 || true

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
  echo "## Micro-benchmarks (Google Benchmark)"
  echo
  echo "In the names, durability:0 is \"sync\" and durability:2 is \"none\"; window is the number"
  echo "of sessions each thread keeps waiting on a durable click."
  echo
  echo "| benchmark | time | CPU | throughput |"
  echo "|---|---|---|---|"
  awk '{ name=$1; t=$2" "$3; c=$4" "$5; tp=""; for (i=7; i<=NF; i++) tp=tp" "$i; print "| " name " | " t " | " c " |" tp " |" }' "$tmp/micro.txt"
} > "$out"
echo "wrote $out"
