#!/usr/bin/env bash
# Core scaling: ../shared/bench/compare_nginx.py at several refgate thread
# counts (nginx gets as many workers), for each durability mode.
#   bench/scale_threads.sh [REFGATE_BINARY]
# Environment: THREADS ("1 2 4 8 16"), DURABILITY ("sync none"), SECS (5),
# WRK_THREADS (4). The shared harness drives load with one wrk thread, which
# tops out near 60-85k requests/s on a 16-core machine (nginx stops scaling at
# 2 workers under it), so this runs a copy of it with WRK_THREADS wrk threads;
# WRK_THREADS=1 runs the harness as it is. Needs nginx and wrk, as it does.
set -euo pipefail
cd "$(dirname "$0")/.."
refgate=${1:-build-release/refgate}
harness=${HARNESS_DIR:-../shared/bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$harness"/. "$tmp"/
sed -i "s/\"-t1\"/\"-t${WRK_THREADS:-4}\"/" "$tmp/compare_nginx.py"
grep -q "\"-t${WRK_THREADS:-4}\"" "$tmp/compare_nginx.py" || { echo "scale_threads: harness has no -t1 to change" >&2; exit 1; }
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), wrk threads ${WRK_THREADS:-4}"
for d in ${DURABILITY:-sync none}; do
  for t in ${THREADS:-1 2 4 8 16}; do
    echo "== threads=$t durability=$d"
    python3 -u "$tmp/compare_nginx.py" --refgate "$refgate" --threads "$t" --durability "$d" --secs "${SECS:-5}"
  done
done
