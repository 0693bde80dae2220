#!/usr/bin/env bash
# Installs everything smp-suite needs to build, run and test, from Debian 12 packages.
# Used by both README commands (scripts/run-suite.sh and scripts/test.sh) and by CI.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  libabsl-dev libhiredis-dev libsqlite3-dev libsodium-dev libssl-dev
  libgtest-dev libgmock-dev
  libpq-dev postgresql-15
  redis-server jq
  redis-sentinel
  openssl stunnel4
  python3-grpcio python3-protobuf python3-grpc-tools
  libcpp-httplib-dev chromium chromium-driver python3-selenium libnss3-tools
  python3-yaml  # deploy/check: parses the compose file and the Kubernetes manifests
  systemd  # deploy/check: systemd-analyze verify of deploy/systemd
  binutils  # deploy/check: readelf, the libraries the image must carry
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian packages start a redis-server on 6379 (and redis-sentinel one on 26379) on install;
# the suite and its tests start their own on other ports.
