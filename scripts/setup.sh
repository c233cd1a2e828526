#!/usr/bin/env bash
# Installs what refgate needs on Debian 12 (only what is missing), then
# configures and builds. Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${1:-build}
shift || true

PACKAGES=(
  g++ cmake ninja-build pkg-config python3 curl
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  librocksdb-dev libxxhash-dev libtomlplusplus-dev libssl-dev libqrencode-dev libpng-dev libnats-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Node.js runs the DuckDB check of the rollups (tests only, never the build).
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)
if [ -n "${REFGATE_EXTRA_PACKAGES:-}" ]; then
  read -r -a extra <<<"$REFGATE_EXTRA_PACKAGES"
  PACKAGES+=("${extra[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${GEN[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
