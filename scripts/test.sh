#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit and end-to-end).
# Usage: scripts/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
shift || true
scripts/setup.sh "$BUILD_DIR" -DREFGATE_TESTS=ON "$@"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 300 -j "$(nproc)"
