#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit and end-to-end),
# after checking that every C++ file follows .clang-format. In CI (CI=true),
# or with REFGATE_TSA=1, it then builds with clang and -Wthread-safety; in
# CI, or with REFGATE_ASAN=1, it builds everything again with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the suite once more.
# Usage: scripts/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
shift || true
# Tests also need clang-format (the format check below).
# zbar-tools and librsvg2-bin decode the QR codes refgate draws (e2e_qr);
# openssl makes the certificates of e2e_webhooks' HTTPS receiver; chromium
# (with a font to draw text in) runs e2e_dashboard's browser; nats-server is
# the JetStream server the cluster tests start (tests/cluster/nats_server.h).
export REFGATE_EXTRA_PACKAGES="clang-format zbar-tools librsvg2-bin openssl chromium fonts-liberation nats-server ${REFGATE_EXTRA_PACKAGES:-}"
# The benchmarks are compiled by the clang pass below (faster there), not here.
scripts/setup.sh "$BUILD_DIR" -DREFGATE_TESTS=ON -DREFGATE_BENCH=OFF "$@"

echo "== every C++ file follows .clang-format"
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run --Werror

(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j "$(nproc)")

if [ "${CI:-}" = "true" ] || [ "${REFGATE_TSA:-}" = "1" ]; then
  # The lock rules written as GUARDED_BY / REQUIRES (util/mutex.h), checked
  # by Clang's thread-safety analysis: a violation fails the build.
  # The benchmarks are built here too, so that they keep compiling.
  echo "== clang build with -Wthread-safety (and the benchmarks)"
  # Nothing built here runs, so no debug information (-g0 instead of -g).
  REFGATE_EXTRA_PACKAGES="clang" CXX=clang++ scripts/setup.sh build-tsa -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-g0" \
    -DREFGATE_TESTS=OFF -DREFGATE_BENCH=ON -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety"
fi

if [ "${CI:-}" = "true" ] || [ "${REFGATE_ASAN:-}" = "1" ]; then
  echo "== the same suite under ASan+UBSan"
  # -g1: line tables for the sanitizers' reports, no variables (a fifth faster).
  scripts/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DREFGATE_SANITIZE=ON \
    -DREFGATE_TESTS=ON -DREFGATE_BENCH=OFF
  # The unit tests in one process (ctest starts one per test, and each
  # sanitized start costs more than most tests: 129 s against 53 s here),
  # then the end-to-end suites through ctest.
  (cd build-asan && ./tests/refgate_tests --gtest_brief=1 &&
    ctest --output-on-failure --timeout 600 -j "$(nproc)" -R '^e2e_')
fi
