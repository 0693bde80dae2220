#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the suite on the embedded defaults: installs packages,
# builds, then scripts/stack.sh starts a redis-server (sessions; append-only file on) and the five
# services on loopback with SQLite data under ./data, and the web console (its URL and the demo
# logins are printed at the end), seeds a demo chain the first time and plays a
# demo day through smpctl. Ctrl-C stops everything; running it again keeps the data.
# Ports, data directory and demo switches: see scripts/stack.sh. SMP_DATABASE=postgresql keeps the
# data in a local PostgreSQL 15 cluster instead of SQLite files (README "PostgreSQL and several
# machines").
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_BASEDIR="$(pwd)"
build_dir="${SMP_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -USMP_SERVICES >/dev/null
ninja -C "$build_dir" -j"${SMP_JOBS:-2}" identity scheduling inventory compliance billing smpctl \
  console
SMP_BUILD_DIR="$build_dir" exec bash scripts/stack.sh
