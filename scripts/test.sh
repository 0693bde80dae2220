#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: installs packages, builds, runs CTest
# (unit tests, then multi-process tests with a real redis-server and the service binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere reuses earlier builds.
export CCACHE_BASEDIR="$(pwd)"
build_dir="${SMP_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMP_BUILD_TESTS=ON -USMP_SERVICES
ninja -C "$build_dir" -j"${SMP_JOBS:-2}"
cd "$build_dir"
ctest --output-on-failure -j"${SMP_JOBS:-2}" --timeout 600
