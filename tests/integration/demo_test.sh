#!/usr/bin/env bash
# The main job as a newcomer sees it: scripts/stack.sh on an empty data directory creates the first
# admin and the service accounts, seeds the demo chain and plays a demo day through smpctl (a
# booking at each clinic, a procedure with needles and pigment issued, the invoice paid, the
# auditor's report exported); started again on the same data it keeps everything and plays another
# day. Real processes on free loopback ports; everything started is stopped by PID.
# Usage: demo_test.sh BUILD_DIR [plain|tls|postgresql]
# With "tls" the stack runs with SMP_TLS=1 (TLS on every hop: smpctl, peers, Redis through its TLS
# proxy) and the test also checks that the plaintext doors are closed. With "postgresql" it runs
# with SMP_DATABASE=postgresql (a local PostgreSQL 15 cluster in the data directory, one database
# per service) and also checks that no service wrote a SQLite file and that the cluster stopped.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
mode=${2:-plain}
cd "$(dirname "$0")/../.."

case "$mode" in
  plain | tls | postgresql) ;;
  *)
    echo "usage: demo_test.sh BUILD_DIR [plain|tls|postgresql]" >&2
    exit 2
    ;;
esac

data_dir=$(mktemp -d /tmp/smp-demo-test.XXXXXX)
trap 'rm -rf "$data_dir"' EXIT
# Fourteen distinct free ports, held together while they are chosen so that none repeats.
read -r -a ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(14)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
export SMP_BUILD_DIR="$build_dir" SMP_DATA_DIR="$data_dir/data" SMP_STACK_EXIT=1
export SMP_REDIS_PORT=${ports[0]} SMP_REDIS_TLS_PORT=${ports[11]} SMP_CONSOLE_PORT=${ports[12]}
if [ "$mode" = tls ]; then export SMP_TLS=1; else export SMP_TLS=0; fi
if [ "$mode" = postgresql ]; then
  export SMP_DATABASE=postgresql SMP_POSTGRES_PORT=${ports[13]}
  # As root the cluster runs as the postgres user, which must be able to enter this directory
  # (search only: it cannot list it).
  chmod 711 "$data_dir"
else
  export SMP_DATABASE=sqlite  # stack.sh's switch; it does not reach the services
fi
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
# Compliance asks scheduling whose patient is whose (never the first clinic to record), and billing
# takes clinics' zones from identity: both run under their service accounts in the stack.
if grep -q "no --scheduling_address" "$SMP_DATA_DIR/logs/compliance.log"; then
  echo "compliance runs without scheduling: an unseen patient is bound to the first recording clinic"
  failures=$((failures + 1))
fi
if grep -q "starts without its service account" "$data_dir/run1.out" "$data_dir/run2.out"; then
  echo "a service started without its service account"
  failures=$((failures + 1))
fi
# Private files: data directories 0700, databases and secrets 0600 (under the test's umask).
for service in identity scheduling inventory compliance billing; do
  [ "$(stat -c %a "$SMP_DATA_DIR/$service")" = 700 ] ||
    { echo "$service's data directory is not 0700"; failures=$((failures + 1)); }
  if [ "$mode" = postgresql ]; then
    if compgen -G "$SMP_DATA_DIR/$service/*.sqlite*" >/dev/null; then
      echo "$service wrote a SQLite file with SMP_DATABASE=postgresql"
      failures=$((failures + 1))
    fi
    continue
  fi
  for f in "$SMP_DATA_DIR/$service/$service".sqlite*; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "$f is not 0600"; failures=$((failures + 1)); }
  done
done
if [ "$mode" = postgresql ]; then
  # The data went to the cluster: its databases hold the day's records, read back with psql on a
  # fresh start of the cluster alone (the stack stopped it: a clean shutdown removes the
  # postmaster.pid).
  pg_data="$SMP_DATA_DIR/postgres/data"
  [ ! -e "$pg_data/postmaster.pid" ] ||
    { echo "PostgreSQL was not stopped cleanly"; failures=$((failures + 1)); }
  [ "$(stat -c %a "$SMP_DATA_DIR/postgres")" = 700 ] ||
    { echo "the cluster directory is not 0700"; failures=$((failures + 1)); }
  [ "$(stat -c %a "$SMP_DATA_DIR/secrets/postgres.password")" = 600 ] ||
    { echo "postgres.password is not 0600"; failures=$((failures + 1)); }
  expect "$data_dir/run1.out" "PostgreSQL 15 on 127.0.0.1:${ports[13]}"
  # shellcheck source=scripts/postgres-lib.sh
  source scripts/postgres-lib.sh
  pg_setup
  pg_dir="$SMP_DATA_DIR/postgres"
  pg_start 127.0.0.1 "${ports[13]}" "$data_dir/postgres-check.log"
  appointments=$(PGPASSFILE="$SMP_DATA_DIR/secrets/pgpass" "$pg_bin/psql" -X -h 127.0.0.1 \
    -p "${ports[13]}" -U smp -d scheduling -tAc "SELECT count(*) FROM appointments")
  paid=$(PGPASSFILE="$SMP_DATA_DIR/secrets/pgpass" "$pg_bin/psql" -X -h 127.0.0.1 \
    -p "${ports[13]}" -U smp -d billing -tAc "SELECT count(*) FROM payments")
  pg_stop
  # Two days of three bookings each.
  [ "$appointments" = 6 ] ||
    { echo "scheduling's database holds $appointments appointments, want 6"; failures=$((failures + 1)); }
  [ "$paid" = 2 ] || { echo "billing's database holds $paid payments, want 2"; failures=$((failures + 1)); }
fi
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
if [ "$mode" = tls ]; then
  tls_dir="$SMP_DATA_DIR/tls"
  for service in identity scheduling inventory compliance billing; do
    expect "$SMP_DATA_DIR/logs/$service.log" '"tls":"mtls"'
  done
  # Scheduling and inventory ran without a password: their certificates were their identity.
  for service in scheduling inventory; do
    expect "$SMP_DATA_DIR/logs/$service.log" "peers know this service by its client certificate"
  done
  for key in "$tls_dir"/*.key; do
    [ "$(stat -c %a "$key")" = 600 ] || { echo "$key is not 0600"; failures=$((failures + 1)); }
  done
  # The plaintext doors are closed: start the stack once more without running the demo and try
  # them while it runs.
  SMP_DEMO=0 SMP_STACK_EXIT=0 bash scripts/stack.sh >"$data_dir/run3.out" 2>&1 &
  stack=$!
  for _ in $(seq 1 200); do
    grep -q "Press Ctrl-C" "$data_dir/run3.out" && break
    sleep 0.1
  done
  expect "$data_dir/run3.out" "Every hop uses TLS"
  # smpctl without TLS (a plaintext client) cannot reach identity: exit 8, unavailable.
  set +e
  env -u SMPCTL_TLS_CA -u SMPCTL_TLS_CERT -u SMPCTL_TLS_KEY SMPCTL_IDENTITY=127.0.0.1:$SMP_IDENTITY_PORT \
    "$build_dir/tools/smpctl/smpctl" --timeout=3s --token_file="$data_dir/none" login \
    --username owner --password_file "$SMP_DATA_DIR/secrets/owner.password" >/dev/null 2>&1
  plain=$?
  # TLS without a client certificate is refused too.
  env -u SMPCTL_TLS_CERT -u SMPCTL_TLS_KEY SMPCTL_TLS_CA="$tls_dir/ca.pem" \
    SMPCTL_IDENTITY=127.0.0.1:$SMP_IDENTITY_PORT \
    "$build_dir/tools/smpctl/smpctl" --timeout=3s --token_file="$data_dir/none" login \
    --username owner --password_file "$SMP_DATA_DIR/secrets/owner.password" >/dev/null 2>&1
  no_cert=$?
  # Redis: no plaintext on its TLS port, and TLS without a client certificate is dropped.
  redis-cli -p "$SMP_REDIS_TLS_PORT" ping >"$data_dir/redis-plain.out" 2>&1
  redis-cli --tls --cacert "$tls_dir/ca.pem" -p "$SMP_REDIS_TLS_PORT" ping \
    >"$data_dir/redis-nocert.out" 2>&1
  # With a client certificate it answers, to the services' ACL user and its password.
  REDISCLI_AUTH="$(cat "$SMP_DATA_DIR/secrets/redis.password")" \
    redis-cli --tls --cacert "$tls_dir/ca.pem" --cert "$tls_dir/redis-proxy.pem" \
    --key "$tls_dir/redis-proxy.key" --user smp -p "$SMP_REDIS_TLS_PORT" ping \
    >"$data_dir/redis-tls.out" 2>&1
  # The web console serves browsers HTTPS with the chain CA's console-web certificate, and
  # nothing in plain HTTP.
  python3 - "$tls_dir/ca.pem" "$SMP_CONSOLE_PORT" >"$data_dir/console-https.out" 2>&1 <<'PY'
import http.client, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
tls = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                  context=ssl.create_default_context(cafile=ca))
tls.request("GET", "/")
print("https", tls.getresponse().status)
try:
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    plain.request("GET", "/")
    print("http", plain.getresponse().status)
except Exception as e:  # the TLS listener drops a plaintext request
    print("http refused:", type(e).__name__)
PY
  set -e
  kill -TERM "$stack"
  wait "$stack" || true
  [ "$plain" = 8 ] || { echo "plaintext smpctl got exit $plain, want 8"; failures=$((failures + 1)); }
  [ "$no_cert" = 8 ] || { echo "smpctl without a client certificate got exit $no_cert, want 8"; failures=$((failures + 1)); }
  if grep -q PONG "$data_dir/redis-plain.out" "$data_dir/redis-nocert.out"; then
    echo "Redis answered without TLS or without a client certificate"
    failures=$((failures + 1))
  fi
  expect "$data_dir/redis-tls.out" "PONG"
  expect "$data_dir/run3.out" "Web console: https://127.0.0.1:$SMP_CONSOLE_PORT/"
  expect "$data_dir/console-https.out" "https 200"
  if grep -q "^http 200" "$data_dir/console-https.out"; then
    echo "the console answered plain HTTP with SMP_TLS=1"
    failures=$((failures + 1))
  fi
fi
if [ "$mode" = plain ]; then
  # A stack without the demo (SMP_DEMO=0) on an empty data directory starts every service: the
  # first admin and the service accounts are made as an install makes them; nothing else is.
  export SMP_DATA_DIR="$data_dir/nodemo"
  if ! SMP_DEMO=0 timeout 120 bash scripts/stack.sh >"$data_dir/run4.out" 2>&1; then
    echo "SMP_DEMO=0 failed:"
    cat "$data_dir/run4.out"
    for log in "$SMP_DATA_DIR"/logs/*.log; do echo "== $log"; tail -n 20 "$log"; done
    exit 1
  fi
  expect "$data_dir/run4.out" "service account svc.inventory"
  for service in scheduling inventory; do
    [ "$(stat -c %a "$SMP_DATA_DIR/secrets/svc.$service.credentials")" = 600 ] ||
      { echo "svc.$service.credentials is not 0600"; failures=$((failures + 1)); }
  done
  [ ! -e "$SMP_DATA_DIR/secrets/chain.env" ] ||
    { echo "SMP_DEMO=0 seeded the demo chain"; failures=$((failures + 1)); }
fi
echo "$failures failures"
[ "$failures" = 0 ]
