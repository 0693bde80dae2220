#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the suite on the embedded defaults: a redis-server
# (sessions; append-only file on) and the services on loopback, with SQLite data under ./data.
# Ctrl-C stops everything; running it again keeps the data.
#
# Ports (override with the environment): SMP_REDIS_PORT=6390, SMP_IDENTITY_PORT=7001,
# SMP_SCHEDULING_PORT=7002, metrics on 9101, 9102. SMP_DATA_DIR=./data.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

bash scripts/install-deps.sh
build_dir="${SMP_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build_dir" -j"${SMP_JOBS:-2}" identity scheduling

data_dir="${SMP_DATA_DIR:-$root/data}"
redis_port="${SMP_REDIS_PORT:-6390}"
identity_port="${SMP_IDENTITY_PORT:-7001}"
identity_metrics_port="${SMP_IDENTITY_METRICS_PORT:-9101}"
scheduling_port="${SMP_SCHEDULING_PORT:-7002}"
scheduling_metrics_port="${SMP_SCHEDULING_METRICS_PORT:-9102}"
mkdir -p "$data_dir/redis" "$data_dir/identity" "$data_dir/scheduling" "$data_dir/logs"

rm -f "$data_dir"/*.ready  # left by a run that was killed
pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; data kept in $data_dir"
}
trap stop_all INT TERM EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$data_dir/redis" \
  --appendonly yes --appendfsync everysec --save "" --daemonize no \
  >"$data_dir/logs/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

"$build_dir/services/identity/identity" \
  --listen="127.0.0.1:$identity_port" --metrics_listen="127.0.0.1:$identity_metrics_port" \
  --data_dir="$data_dir/identity" --redis="127.0.0.1:$redis_port" \
  --ready_file="$data_dir/identity.ready" \
  2>>"$data_dir/logs/identity.log" &
pids+=($!)

# The compliance service is not part of the suite yet: without --compliance_address scheduling books
# consultations and refuses procedures with UNAVAILABLE, as documented.
"$build_dir/services/scheduling/scheduling" \
  --listen="127.0.0.1:$scheduling_port" --metrics_listen="127.0.0.1:$scheduling_metrics_port" \
  --data_dir="$data_dir/scheduling" --redis="127.0.0.1:$redis_port" \
  --ready_file="$data_dir/scheduling.ready" \
  2>>"$data_dir/logs/scheduling.log" &
pids+=($!)
for ready in identity scheduling; do
  for _ in $(seq 1 100); do
    [ -f "$data_dir/$ready.ready" ] && break
    sleep 0.1
  done
done

cat <<EOT

smp-suite is running (logs in $data_dir/logs):
  redis      127.0.0.1:$redis_port  (sessions; append-only file in $data_dir/redis)
  identity   127.0.0.1:$identity_port  gRPC (health, reflection)   metrics http://127.0.0.1:$identity_metrics_port/metrics
  scheduling 127.0.0.1:$scheduling_port  gRPC (health, reflection)   metrics http://127.0.0.1:$scheduling_metrics_port/metrics
EOT
if [ -f "$data_dir/identity/identity-setup-code" ]; then
  cat <<EOT

No staff accounts yet. Create the first admin with IdentityService.BootstrapAdmin and the one-time
setup code in $data_dir/identity/identity-setup-code:
  setup code: $(cat "$data_dir/identity/identity-setup-code")
EOT
fi
echo
echo "Press Ctrl-C to stop."
wait "${pids[@]}"
