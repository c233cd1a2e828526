#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for
# SECONDS (default 60) on a copy of its seed corpus. Exits non-zero if any
# target finds a crash; the reproducer is left in build-fuzz/findings/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
REFGATE_EXTRA_PACKAGES="clang libclang-rt-14-dev" scripts/setup.sh build-fuzz \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DREFGATE_FUZZ=ON \
  -DREFGATE_TESTS=OFF -DREFGATE_BENCH=OFF
mkdir -p build-fuzz/findings
failed=0
for t in clicklog_reader location admin_codec config http_request; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/$t/* "$work/" 2>/dev/null || true
  echo "== fuzz_$t for ${secs}s"
  if ! build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -max_len=16384 \
      -artifact_prefix=build-fuzz/findings/$t- -print_final_stats=1 "$work" \
      > "build-fuzz/findings/$t.log" 2>&1; then
    echo "fuzz_$t FOUND A PROBLEM: see build-fuzz/findings/$t.log"
    tail -30 "build-fuzz/findings/$t.log"
    failed=1
  else
    grep -E "stat::number_of_executed_units|cov:" "build-fuzz/findings/$t.log" | tail -2
  fi
done
exit $failed
