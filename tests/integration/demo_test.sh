#!/usr/bin/env bash
# The main job as a newcomer sees it: scripts/stack.sh on an empty data directory creates the first
# admin and the service accounts, seeds the demo chain and plays a demo day through smpctl (a
# booking at each clinic, a procedure with needles and pigment issued, the invoice paid, the
# auditor's report exported); started again on the same data it keeps everything and plays another
# day. Real processes on free loopback ports; everything started is stopped by PID.
# Usage: demo_test.sh BUILD_DIR
set -euo pipefail
build_dir=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."

data_dir=$(mktemp -d /tmp/smp-demo-test.XXXXXX)
trap 'rm -rf "$data_dir"' EXIT
# Eleven distinct free ports, held together while they are chosen so that none repeats.
read -r -a ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(11)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
export SMP_BUILD_DIR="$build_dir" SMP_DATA_DIR="$data_dir/data" SMP_STACK_EXIT=1
export SMP_REDIS_PORT=${ports[0]}
i=1
for service in IDENTITY SCHEDULING INVENTORY COMPLIANCE BILLING; do
  export "SMP_${service}_PORT=${ports[i]}" "SMP_${service}_METRICS_PORT=${ports[i + 5]}"
  i=$((i + 1))
done

failures=0
expect() {
  if grep -qF -- "$2" "$1"; then
    echo "ok: $2"
  else
    echo "MISSING in $1: $2"
    failures=$((failures + 1))
  fi
}

for run in 1 2; do
  out="$data_dir/run$run.out"
  if ! timeout 240 bash scripts/stack.sh >"$out" 2>&1; then
    echo "run $run failed:"
    cat "$out"
    for log in "$SMP_DATA_DIR"/logs/*.log; do echo "== $log"; tail -n 20 "$log"; done
    exit 1
  fi
  expect "$out" "desk.london booked a consultation"
  expect "$out" "desk.sydney booked a consultation"
  expect "$out" "tech.austin started it; inventory issued needle N-AUSTIN-0$run"
  expect "$out" "billing.clerk took payment of 108.25 USD"
  expect "$out" "procedures:  $run"
  expect "$out" "findings:    0"
  expect "$out" "stopped; data kept"
done
expect "$data_dir/run1.out" "First run: seeding the demo chain"
if grep -q "First run" "$data_dir/run2.out"; then
  echo "the second start seeded again"
  failures=$((failures + 1))
fi
[ "$(stat -c %a "$SMP_DATA_DIR/secrets/svc.scheduling.credentials")" = 600 ] ||
  { echo "credentials file is not 0600"; failures=$((failures + 1)); }
# Private files: data directories 0700, databases and secrets 0600 (under the test's umask).
for service in identity scheduling inventory compliance billing; do
  [ "$(stat -c %a "$SMP_DATA_DIR/$service")" = 700 ] ||
    { echo "$service's data directory is not 0700"; failures=$((failures + 1)); }
  for f in "$SMP_DATA_DIR/$service/$service".sqlite*; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "$f is not 0600"; failures=$((failures + 1)); }
  done
done
# Every demo account has its own password (identity checks each account's own), so a desk user
# cannot log in as the auditor; the day above logged each of them in with theirs.
passwords="$SMP_DATA_DIR/secrets/passwords"
for user in desk.austin tech.austin stock.austin desk.london billing.clerk auditor; do
  [ "$(stat -c %a "$passwords/$user")" = 600 ] ||
    { echo "$passwords/$user is not 0600"; failures=$((failures + 1)); }
done
[ "$(sort "$passwords"/* | uniq -d | wc -l)" = 0 ] ||
  { echo "two demo accounts share a password"; failures=$((failures + 1)); }
reports=("$SMP_DATA_DIR"/reports/*.csv)
[ "${#reports[@]}" = 2 ] || { echo "expected 2 exported reports, got ${#reports[@]}"; failures=$((failures + 1)); }
echo "$failures failures"
[ "$failures" = 0 ]
