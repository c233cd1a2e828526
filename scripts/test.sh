#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit and end-to-end).
# In CI (CI=true), or with REFGATE_ASAN=1, it then builds everything again
# with AddressSanitizer and UndefinedBehaviorSanitizer and runs the suite
# once more.
# Usage: scripts/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
shift || true
# Tests also need clang-format (the format check below).
export REFGATE_EXTRA_PACKAGES="clang-format ${REFGATE_EXTRA_PACKAGES:-}"
scripts/setup.sh "$BUILD_DIR" -DREFGATE_TESTS=ON "$@"

echo "== every C++ file follows .clang-format"
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run --Werror

(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j "$(nproc)")

if [ "${CI:-}" = "true" ] || [ "${REFGATE_ASAN:-}" = "1" ]; then
  echo "== the same suite under ASan+UBSan"
  scripts/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DREFGATE_SANITIZE=ON \
    -DREFGATE_TESTS=ON -DREFGATE_BENCH=OFF
  (cd build-asan && ctest --output-on-failure --timeout 600 -j "$(nproc)")
fi
