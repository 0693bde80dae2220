#!/usr/bin/env bash
# A multi-host rehearsal on one machine (README "Several machines: the rehearsal"): three "hosts"
# as network namespaces on a bridge of their own, and the suite spread over them:
#   host A  10.77.0.1  PostgreSQL 15 (one database a service) and Redis (a single primary)
#   host B  10.77.0.2  a replica of identity, scheduling, inventory, compliance and billing
#   host C  10.77.0.3  another replica of each
# Clients (smpctl, run in host A) and the services' calls to their peers reach each service
# through one round-robin target over B and C ("ipv4:10.77.0.2:7002,10.77.0.3:7002"). It seeds the
# demo chain and plays the demo day (scripts/demo.sh through smpctl), checks that host C served
# calls too, then cuts host C off (`ip link set eth0 down` in its namespace) and shows that
# session checks and a second demo day (bookings at every clinic, a procedure, a payment, the
# report) are served by host B alone. Exit status 0 when all of it held.
#
# Needs root (ip netns). Where network namespaces cannot be made it says so and falls back to
# distinct loopback addresses (A 127.0.1.1, B 127.0.1.2, C 127.0.1.3) with free ports, and cuts
# host C off by stopping its processes (SIGSTOP: a host that no longer answers).
# Everything it makes (namespaces, the bridge and links inside them, processes, the temporary
# directory) is removed on exit, processes by their PIDs; SMP_REHEARSAL_KEEP=1 keeps the directory.
# SMP_REHEARSAL_NETNS=0 takes the loopback fallback without trying namespaces.
# Usage: rehearsal.sh [BUILD_DIR]   (default: $SMP_BUILD_DIR, else build)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build_dir="${1:-${SMP_BUILD_DIR:-build}}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
for program in services/identity/identity services/scheduling/scheduling \
  services/inventory/inventory services/compliance/compliance services/billing/billing \
  tools/smpctl/smpctl; do
  [ -x "$build_dir/$program" ] || { echo "rehearsal: $build_dir/$program is not built" >&2; exit 2; }
done
# shellcheck source=scripts/postgres-lib.sh
source "$root/scripts/postgres-lib.sh"
pg_setup

work=$(mktemp -d /tmp/smp-rehearsal.XXXXXX)
chmod 711 "$work"  # PostgreSQL (the postgres user, as root) enters it; nobody lists it
mkdir -p "$work/logs"
services=(identity scheduling inventory compliance billing)
declare -A service_port=([identity]=7001 [scheduling]=7002 [inventory]=7003 [compliance]=7004
  [billing]=7005)
tag=$$
ns_a="smp-a-$tag" ns_b="smp-b-$tag" ns_c="smp-c-$tag"
namespaces=()
pids=()         # every process started, in start order
declare -A pid_of  # host.service -> PID
log() { printf '[rehearsal %s] %s\n' "$(date +%T)" "$*"; }
log "starting in $work"

cleanup() {
  local status=$?
  trap - INT TERM EXIT
  log "cleaning up"
  # Host C's processes may be stopped (fallback): let them take their SIGTERM. They all drain
  # together; whatever still runs after 15 s gets SIGKILL (named in the output).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    kill -CONT "${pids[i]}" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 15)) pid key
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      for key in "${!pid_of[@]}"; do
        if [ "${pid_of[$key]}" = "$pid" ]; then log "SIGKILL to $key ($pid)"; fi
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pg_stop
  # Deleting a namespace deletes the links and the bridge inside it.
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "${SMP_REHEARSAL_KEEP:-0}" = 1 ]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
  log "cleaned up"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the three hosts -------------------------------------------------------------------------
declare -A addr run_in
make_namespaces() {
  ip netns add "$ns_a" 2>"$work/logs/netns.err" || return 1
  namespaces+=("$ns_a")
  ip netns add "$ns_b" && namespaces+=("$ns_b") || return 1
  ip netns add "$ns_c" && namespaces+=("$ns_c") || return 1
  # Host A holds the bridge (its "switch"); B and C are plugged in by veth pairs, named eth0 on
  # their side. Addresses exist only inside the namespaces.
  ip -n "$ns_a" link add br0 type bridge || return 1
  ip -n "$ns_a" addr add 10.77.0.1/24 dev br0 || return 1
  local host
  for host in b c; do
    local ns="smp-$host-$tag"
    ip link add eth0 netns "$ns" type veth peer name "port-$host" netns "$ns_a" || return 1
    ip -n "$ns_a" link set "port-$host" master br0 up || return 1
    ip -n "$ns" link set lo up || return 1
  done
  ip -n "$ns_b" addr add 10.77.0.2/24 dev eth0 && ip -n "$ns_b" link set eth0 up || return 1
  ip -n "$ns_c" addr add 10.77.0.3/24 dev eth0 && ip -n "$ns_c" link set eth0 up || return 1
  ip -n "$ns_a" link set lo up && ip -n "$ns_a" link set br0 up || return 1
}
netns=1
if [ "${SMP_REHEARSAL_NETNS:-1}" = 0 ]; then
  log "SMP_REHEARSAL_NETNS=0: no network namespaces; distinct loopback addresses 127.0.1.1-3 instead"
  netns=0
elif ! make_namespaces; then
  log "cannot make network namespaces ($(head -c 200 "$work/logs/netns.err" 2>/dev/null)); falling back to distinct loopback addresses 127.0.1.1-3 on this host's network"
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  namespaces=()
  netns=0
fi
if [ "$netns" = 1 ]; then
  addr=([a]=10.77.0.1 [b]=10.77.0.2 [c]=10.77.0.3)
  run_in=([a]="ip netns exec $ns_a" [b]="ip netns exec $ns_b" [c]="ip netns exec $ns_c")
  postgres_port=5432 redis_port=6379
  declare -A port
  for host in b c; do
    for s in "${services[@]}"; do
      port[$host.$s]=${service_port[$s]}
      port[$host.$s.metrics]=$((service_port[$s] + 2100))
    done
  done
  log "hosts: A $ns_a 10.77.0.1, B $ns_b 10.77.0.2, C $ns_c 10.77.0.3 (bridge br0 in A)"
else
  addr=([a]=127.0.1.1 [b]=127.0.1.2 [c]=127.0.1.3)
  run_in=([a]="" [b]="" [c]="")
  # Free ports on each address, held together while chosen so that none repeats.
  read -r -a free < <(python3 -c '
import socket
socks = []
for host in ["127.0.1.1"] * 2 + ["127.0.1.2"] * 10 + ["127.0.1.3"] * 10:
    s = socket.socket(); s.bind((host, 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  postgres_port=${free[0]} redis_port=${free[1]}
  declare -A port
  i=2
  for host in b c; do
    for s in "${services[@]}"; do
      port[$host.$s]=${free[i]}
      port[$host.$s.metrics]=${free[i + 1]}
      i=$((i + 2))
    done
  done
  log "hosts: A 127.0.1.1, B 127.0.1.2, C 127.0.1.3 (loopback fallback)"
fi
# target SERVICE: the round-robin target over B and C.
target() { echo "ipv4:${addr[b]}:${port[b.$1]},${addr[c]}:${port[c.$1]}"; }

# --- host A: PostgreSQL and Redis ------------------------------------------------------------
secrets="$work/demo/secrets"  # the secrets every host reads (one machine's file system)
mkdir -p "$secrets"
chmod 700 "$work/demo" "$secrets"
pg_new_password "$secrets/postgres.password"
pg_pgpass "$secrets/pgpass" "$secrets/postgres.password"
pg_init "$work/postgres" "$secrets/postgres.password" "$work/logs/postgres.log"
pg_allow "${addr[a]%.*}.0/24"
# Server-side TCP keepalive: a session of a host that was cut off mid-transaction is ended
# (its row locks released) within about 25 s rather than the system's two hours.
# shellcheck disable=SC2086
pg_start "${addr[a]}" "$postgres_port" "$work/logs/postgres.log" ${run_in[a]}
# shellcheck disable=SC2086
PGPASSFILE="$secrets/pgpass" ${run_in[a]} "$pg_bin/psql" -X -q -h "${addr[a]}" -p "$postgres_port" \
  -U smp -d postgres -c "ALTER SYSTEM SET tcp_keepalives_idle = 10" \
  -c "ALTER SYSTEM SET tcp_keepalives_interval = 5" -c "ALTER SYSTEM SET tcp_keepalives_count = 3" \
  -c "SELECT pg_reload_conf()" >/dev/null
# shellcheck disable=SC2086
pg_create_databases "${addr[a]}" "$postgres_port" "$secrets/pgpass" "${services[@]}" -- ${run_in[a]}
log "host A: PostgreSQL 15 on ${addr[a]}:$postgres_port, databases: ${services[*]}"

redis_password_file="$secrets/redis.password"
(
  umask 077
  head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$redis_password_file"
  head -c 32 /dev/urandom >"$secrets/session-mac.key"
  mkdir -p "$work/redis"
  printf 'user default on #%s ~* &* +@all\nuser smp on #%s ~smp:* &* +@all -@dangerous -@admin\n' \
    "$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)" \
    "$(tr -d '\n' <"$redis_password_file" | sha256sum | cut -d' ' -f1)" >"$work/redis/users.acl"
)
# shellcheck disable=SC2086
${run_in[a]} redis-server --bind "${addr[a]}" --port "$redis_port" --dir "$work/redis" \
  --aclfile "$work/redis/users.acl" --appendonly yes --appendfsync everysec --save "" \
  --daemonize no >"$work/logs/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  # shellcheck disable=SC2086
  REDISCLI_AUTH="$(cat "$redis_password_file")" ${run_in[a]} redis-cli --user smp \
    -h "${addr[a]}" -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
log "host A: Redis on ${addr[a]}:$redis_port"
export SMP_REDIS_USER=smp SMP_REDIS_PASSWORD_FILE="$redis_password_file"
export SMP_SESSION_MAC_KEY_FILE="$secrets/session-mac.key"

# --- hosts B and C: the services ---------------------------------------------------------------
# start HOST SERVICE [flags...]: one replica. Its data directory is its host's own; the database
# and Redis are host A's; peers are the round-robin targets over B and C. Plaintext between the
# namespaces (--allow_insecure_peers): they are private to this machine; a real deployment puts
# TLS on every hop (README "Security model").
start() {
  local host=$1 name=$2
  shift 2
  local dir="$work/host-$host/$name"
  local insecure=(--allow_insecure_peers)
  [ "$name" = identity ] && insecure=()  # it calls no peer
  mkdir -p "$dir"
  chmod 700 "$work/host-$host" "$dir"
  rm -f "$dir.ready"
  # shellcheck disable=SC2086
  ${run_in[$host]} "$build_dir/services/$name/$name" \
    --listen="${addr[$host]}:${port[$host.$name]}" \
    --metrics_listen="${addr[$host]}:${port[$host.$name.metrics]}" \
    --data_dir="$dir" --redis="${addr[a]}:$redis_port" --ready_file="$dir.ready" \
    --database="postgresql://smp@${addr[a]}:$postgres_port/$name" \
    --database_password_file="$secrets/postgres.password" "${insecure[@]}" "$@" \
    2>>"$work/logs/$name-$host.log" &
  pids+=($!)
  pid_of[$host.$name]=$!
}
wait_ready() {
  local key
  for key in "$@"; do
    local host=${key%%.*} name=${key#*.}
    for _ in $(seq 1 300); do
      [ -f "$work/host-$host/$name.ready" ] && continue 2
      kill -0 "${pid_of[$key]}" 2>/dev/null || break
      sleep 0.1
    done
    echo "rehearsal: $name on host $host did not start; see $work/logs/$name-$host.log:" >&2
    tail -n 20 "$work/logs/$name-$host.log" >&2
    exit 1
  done
}

export SMP_DATA_DIR="$work/demo" SMPCTL="$build_dir/tools/smpctl/smpctl"
for s in "${services[@]}"; do
  upper=$(echo "$s" | tr '[:lower:]' '[:upper:]')
  export "SMPCTL_$upper=$(target "$s")"
done
# smpctl and demo.sh run on host A, as a client machine would.
client() {
  # shellcheck disable=SC2086
  ${run_in[a]} "$@"
}

# Identity first. Both replicas read the one setup code (written by the first) that demo.sh
# accounts gives to whichever replica the round robin picks.
mkdir -p "$work/demo/identity"
chmod 700 "$work/demo/identity"
setup_code="$work/demo/identity/identity-setup-code"
start b identity --setup_code_file="$setup_code"
wait_ready b.identity
start c identity --setup_code_file="$setup_code"
wait_ready c.identity
log "hosts B and C: identity replicas on $(target identity)"
client bash scripts/demo.sh accounts

peers=(--identity_address="$(target identity)")
# The audit checkpoint key is the chain's, the same for every compliance replica: the first makes it.
for host in b c; do
  start "$host" compliance "${peers[@]}" --checkpoint_key_file="$work/demo/compliance-checkpoint.key" \
    --service_credentials_file="$secrets/svc.compliance.credentials" \
    --scheduling_address="$(target scheduling)"
  wait_ready "$host.compliance"
  start "$host" billing "${peers[@]}" --service_credentials_file="$secrets/svc.billing.credentials"
done
for host in b c; do
  start "$host" inventory "${peers[@]}" \
    --service_credentials_file="$secrets/svc.inventory.credentials" \
    --scheduling_address="$(target scheduling)" --compliance_address="$(target compliance)"
  start "$host" scheduling "${peers[@]}" \
    --service_credentials_file="$secrets/svc.scheduling.credentials" \
    --compliance_address="$(target compliance)" --inventory_address="$(target inventory)" \
    --billing_address="$(target billing)"
done
wait_ready b.billing c.billing b.inventory c.inventory b.scheduling c.scheduling
log "hosts B and C: a replica of every service each; clients use round-robin targets:"
for s in "${services[@]}"; do printf '    %-10s %s\n' "$s" "$(target "$s")"; done

failures=0
check() {  # check DESCRIPTION COMMAND...: runs it, counts a failure
  local what=$1
  shift
  if "$@"; then
    log "ok: $what"
  else
    log "FAILED: $what"
    failures=$((failures + 1))
  fi
}
# handled HOST: RPCs host HOST's replicas have completed (their metrics endpoints, read from A).
handled() {
  local host=$1 total=0 s n
  for s in "${services[@]}"; do
    # shellcheck disable=SC2086
    n=$(client python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())' \
      "http://${addr[$host]}:${port[$host.$s.metrics]}/metrics" 2>/dev/null |
      awk '/^smp_grpc_server_handled_total/ { n += $NF } END { printf "%d", n }')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

log "the demo chain and a demo day, through the round-robin targets"
client bash scripts/demo.sh chain
client bash scripts/demo.sh day | tee "$work/day1.out"
check "day 1: desk.london booked a consultation" grep -q "desk.london booked a consultation" "$work/day1.out"
check "day 1: billing.clerk took the payment" grep -q "billing.clerk took payment of 108.25 USD" "$work/day1.out"
check "day 1: the procedure is in the auditor's report" grep -q "procedures:  1" "$work/day1.out"
# Both compliance replicas append to one audit log (writers queue on the chain's head,
# common/db/README.md): the hash chain they wrote together must verify.
audit_chain_verifies() {
  client "$SMPCTL" --timeout=20s --token_file="$secrets/tokens/auditor" audit verify
}
check "day 1: the audit chain written by both compliance replicas verifies" audit_chain_verifies
served_b=$(handled b)
served_c=$(handled c)
log "RPCs served so far: host B $served_b, host C $served_c"
check "both hosts served calls" test "$served_b" -gt 0 -a "$served_c" -gt 0

# --- cut host C off ----------------------------------------------------------------------------
if [ "$netns" = 1 ]; then
  log "cutting host C off: ip -n $ns_c link set eth0 down"
  ip -n "$ns_c" link set eth0 down
else
  log "cutting host C off: SIGSTOP to its processes (loopback fallback)"
  for s in "${services[@]}"; do kill -STOP "${pid_of[c.$s]}"; done
fi
# smpctl straight at host C: nothing answers.
set +e
client "$SMPCTL" --timeout=3s --identity="${addr[c]}:${port[c.identity]}" \
  --token_file="$secrets/tokens/auditor" whoami >/dev/null 2>&1
direct=$?
set -e
check "host C no longer answers (smpctl exit $direct, want 8: unavailable)" test "$direct" = 8
# Peers' channels on B notice the lost replicas by keepalive (15 s pings, 5 s to answer;
# common/peer/peer_channel.h) and leave them out; a fresh client leaves them out at once.
log "waiting 25 s for B's peer channels to notice host C is gone (keepalive)"
sleep 25
started=$(handled b)
clinic_austin=$(sed -n "s/^CLINIC_austin=//p" "$secrets/chain.env")
session_checks() {  # session_checks COMMAND...: six calls in a row as desk.austin, all answered
  for _ in 1 2 3 4 5 6; do
    client "$SMPCTL" --timeout=5s --token_file="$secrets/tokens/desk.austin" "$@" >/dev/null ||
      return 1
  done
}
check "session checks at identity (6 whoami in a row)" session_checks whoami
check "session checks at scheduling (6 appointment lists in a row)" \
  session_checks appointment list --clinic="$clinic_austin"
log "a second demo day, with host C cut off"
client bash scripts/demo.sh day | tee "$work/day2.out"
check "day 2: desk.london and desk.sydney booked" grep -q "desk.sydney booked a consultation" "$work/day2.out"
check "day 2: a sample patch booked, started, completed and paid" \
  grep -q "billing.clerk took payment of 108.25 USD" "$work/day2.out"
check "day 2: both procedures in the auditor's report" grep -q "procedures:  2" "$work/day2.out"
check "day 2: the audit chain still verifies" audit_chain_verifies
after=$(handled b)
log "host B served $((after - started)) more RPCs while host C was cut off"
check "host B served them" test "$after" -gt "$started"
log "$failures failures"
[ "$failures" = 0 ]
