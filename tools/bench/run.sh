#!/usr/bin/env bash
# The suite's benchmark (issue 8): every scenario in one run, compared with a null echo server in
# the same run at the same concurrency, against the suite's non-functional targets (README.md,
# "Benchmarks"):
#   - an authenticated read serves >= 60% of the echo's queries per second, p99 <= 2x the echo's;
#   - durable booking serves >= 30% of the echo's queries per second;
#   - idle resident memory of a service < 30 MB.
#
# It builds what it needs, starts on loopback a redis-server (persistence off), smp_echo_server,
# two identity processes (one with the default 500 ms auth cache, one with --auth_cache_ttl=0),
# scheduling (no compliance address: consultations only), inventory, compliance and billing, each
# with a fresh temporary data directory, and measures:
#   1. authenticated reads: identity GetClinic with the session cache on and off, and scheduling
#      GetAppointment (the issue's "get an appointment");
#   2. scheduling FindAvailability, 10 practitioners x 4 weeks;
#   3. durable booking over distinct slots, and contention on one slot (verified to book once);
#   4. inventory IssueToProcedure of labelled needle units (single-use check; every 10th call
#      presents a spent unit and is refused), each to an appointment booked at scheduling, which
#      inventory asks (as svc.inventory, whose account and credentials file run.sh makes, as
#      scripts/stack.sh does), closed loop, and open loop at --issue_rate (a busy chain's rate,
#      see the README);
#   5. branch sync: --sync_changes appointment changes (bookings seeded through BookAppointment)
#      pulled whole by ListChanges and by WatchChanges (timed tasks, --task_runs each); and
#      --fanout_watchers (1000) WatchChanges streams of one clinic held by one scheduling process
#      of their own (started with --max_streams_per_session/--max_streams raised to hold them),
#      receiving --fanout_changes (100) bookings: RSS before and peak, deliveries per second to
#      all, time for a change to reach every watcher (0 watchers skips it);
#   6. compliance GenerateReport over a year of a --report_clinics clinic chain with
#      --report_procedures procedures: time and the peak resident memory of compliance during the
#      report; and the same over a year of a --report100_clinics chain with
#      --report100_procedures procedures. Both are seeded in bulk through compliance's store
#      (smp_loadgen --bulk_seed_data_dir: the loader opens compliance's SQLite file beside the
#      running service and writes in transactions of 1,000 records), each record as recorded at
#      its own time, so that the reports' only findings are the planted ones (seeded through the
#      Record* RPCs, every record would be on file only from the seeding's time);
#   7. resident memory of every service idle (after start) and after all the load, and its peak;
#   8. booking on PostgreSQL (issue 15): it starts a PostgreSQL 15 (Debian's postgresql-15, as the
#      `postgres` user when run as root; fsync on, default settings) and --pg_replicas scheduling
#      processes on one database of it, and runs scheduling.book (a patient per practitioner
#      lane, so every call books) against 1, 2, 3 of them behind one
#      round_robin channel (loadgen --lb_policy=round_robin), next to the SQLite scheduling and the
#      echo at the same concurrency (--pg_concurrency), one run each. Skipped, and said so, when
#      PostgreSQL is not installed ($SMP_POSTGRES_BIN overrides /usr/lib/postgresql/15/bin).
# (billing GetPatientBalance is measured too, so that billing's memory is measured loaded.)
# Every scenario's calls must succeed: a row (its runs together) with more than --max_error_ratio
# (0.1%) of its calls failed (a status other than the scenario's expected answers) is FAIL(err),
# named with its status codes at the end, and run.sh exits 1, as it does when a scenario's setup,
# verification or task fails: such a row measures refusals, not work.
# Each closed-loop row is the median of its runs: echo and the rows judged against a target
# (authenticated reads, booking) --repeat times, the informative rows of the other services
# --sched_repeat times, interleaved by concurrency so that a burst of other load on the machine
# hits them alike. The JSON lines (one per load run, task, memory reading and table row)
# go to <out>/bench-<UTC time>.jsonl, the table to .txt. Every process it starts is stopped by its
# PID on exit (never by name).
#
# Usage: tools/bench/run.sh [--out DIR] [--build DIR] [--jobs N] [--no-build]
#            [--concurrency "1 16 64"] [--repeat 3] [--sched_repeat 1] [--warmup 1s]
#            [--duration 5s] [--max_requests N] [--booking_slots 30000] [--issue_rate 50]
#            [--sync_changes 100000] [--fanout_watchers 1000] [--fanout_changes 100] [--report_procedures 50000] [--report_clinics 10]
#            [--report100_procedures 500000] [--report100_clinics 100]
#            [--task_runs 3] [--seed_concurrency 64] [--malloc_arena_max 2]
#            [--server_args "--max_threads=128"] [--pg_replicas "1 2 3"] [--pg_concurrency 16]
#            [--only "load sync report report100 pg"]
#            [--max_error_ratio 0.001]
# --server_args go to every server. --booking_slots: distinct requests prepared per booking and
# issue run (its call cap). --malloc_arena_max sets MALLOC_ARENA_MAX for the servers (0: glibc's
# default, 8 per core). --only runs some parts: load (the closed- and open-loop rows), sync, report
# (10 clinics), report100 (100 clinics, bulk-seeded), pg (section 8); default all. --pg_replicas ""
# skips section 8 too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build-bench"
OUT=""
JOBS=1
DO_BUILD=1
CONCURRENCY="1 16 64"
REPEAT=3
SCHED_REPEAT=1
BOOKING_SLOTS=30000
ISSUE_RATE=50
SYNC_CHANGES=100000
FANOUT_WATCHERS=1000
FANOUT_CHANGES=100
REPORT_PROCEDURES=50000
REPORT_CLINICS=10
REPORT100_PROCEDURES=500000
REPORT100_CLINICS=100
TASK_RUNS=3
SEED_CONCURRENCY=64
MALLOC_ARENA=2
WARMUP=1s
DURATION=5s
MAX_REQUESTS=5000000
SERVER_ARGS=""
PG_REPLICAS="1 2 3"
PG_CONCURRENCY=16
ONLY="load sync report report100 pg"
# The non-functional targets (README.md, "Benchmarks").
MIN_QPS_RATIO=0.60
MIN_BOOK_QPS_RATIO=0.30
MAX_P99_RATIO=2.0
RSS_TARGET_MB=30
MAX_ERROR_RATIO=0.001  # a row with more failed calls fails the bench

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  if [[ $1 == --*=* ]]; then  # --flag=value -> --flag value
    set -- "${1%%=*}" "${1#*=}" "${@:2}"
  fi
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --sched_repeat) SCHED_REPEAT=$2; shift 2 ;;
    --booking_slots) BOOKING_SLOTS=$2; shift 2 ;;
    --issue_rate) ISSUE_RATE=$2; shift 2 ;;
    --sync_changes) SYNC_CHANGES=$2; shift 2 ;;
    --fanout_watchers) FANOUT_WATCHERS=$2; shift 2 ;;
    --fanout_changes) FANOUT_CHANGES=$2; shift 2 ;;
    --report_procedures) REPORT_PROCEDURES=$2; shift 2 ;;
    --report_clinics) REPORT_CLINICS=$2; shift 2 ;;
    --report100_procedures) REPORT100_PROCEDURES=$2; shift 2 ;;
    --report100_clinics) REPORT100_CLINICS=$2; shift 2 ;;
    --task_runs) TASK_RUNS=$2; shift 2 ;;
    --seed_concurrency) SEED_CONCURRENCY=$2; shift 2 ;;
    --malloc_arena_max) MALLOC_ARENA=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --max_requests) MAX_REQUESTS=$2; shift 2 ;;
    --server_args) SERVER_ARGS=$2; shift 2 ;;
    --pg_replicas) PG_REPLICAS=$2; shift 2 ;;
    --pg_concurrency) PG_CONCURRENCY=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --max_error_ratio) MAX_ERROR_RATIO=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
BUILD=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)
OUT=${OUT:-$BUILD/results}
mkdir -p "$OUT"
RUN_START=$(date +%s)

want() { [[ " $ONLY " == *" $1 "* ]]; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- build ----
SERVICES=(identity scheduling inventory compliance billing)
if [[ $DO_BUILD == 1 ]]; then
  if [[ ! -f $BUILD/build.ninja ]]; then
    log "configuring $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log "building smp_echo_server smp_loadgen smpctl ${SERVICES[*]} (ninja -j$JOBS)"
  ninja -C "$BUILD" -j"$JOBS" smp_echo_server smp_loadgen smpctl "${SERVICES[@]}" >&2
fi
ECHO_BIN=$BUILD/tools/echo/smp_echo_server
LOADGEN=$BUILD/tools/loadgen/smp_loadgen
SMPCTL=$BUILD/tools/smpctl/smpctl
REDIS_BIN=$(command -v redis-server || true)
for bin in "$ECHO_BIN" "$LOADGEN" "$SMPCTL" "$REDIS_BIN"; do
  [[ -n $bin && -x $bin ]] || { echo "run.sh: missing binary ${bin:-redis-server}" >&2; exit 1; }
done
for svc in "${SERVICES[@]}"; do
  [[ -x $BUILD/services/$svc/$svc ]] || { echo "run.sh: missing $svc in $BUILD" >&2; exit 1; }
done

# ---- processes: started here, stopped here by PID ----
TMP=$(mktemp -d -t smp-bench.XXXXXX)
STARTED_PIDS=()
PG_DIR=""        # the PostgreSQL cluster of section 8 (under /tmp: the postgres user reaches it)
PG_POSTMASTER="" # its postmaster's PID, stopped with SIGINT (fast shutdown)
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local i pid n sig
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${STARTED_PIDS[i]}
    sig=TERM
    [[ $pid == "$PG_POSTMASTER" ]] && sig=INT
    kill -"$sig" "$pid" 2>/dev/null || continue
    for ((n = 0; n < 150; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  [[ -n $PG_DIR ]] && rm -rf "$PG_DIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

redis_ping() {
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 1 reply <&3 || true
  exec 3>&-
  [[ $reply == +PONG* ]]
}

declare -A PORT PID
REDIS_PORT=$(free_port)
"$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no >"$TMP/redis.log" 2>&1 &
PID[redis]=$!
STARTED_PIDS+=("${PID[redis]}")
for ((n = 0; n < 100; n++)); do redis_ping "$REDIS_PORT" && break; sleep 0.1; done
redis_ping "$REDIS_PORT" || { echo "run.sh: redis-server did not start" >&2; cat "$TMP/redis.log" >&2; exit 1; }
log "redis-server pid ${PID[redis]} on 127.0.0.1:$REDIS_PORT"

# start_server NAME BINARY ARGS...: starts it on a free port, waits for its ready file.
start_server() {
  local name=$1 bin=$2
  shift 2
  local ready=$TMP/$name.ready
  local env=()
  [[ $MALLOC_ARENA != 0 ]] && env=(MALLOC_ARENA_MAX="$MALLOC_ARENA")
  # shellcheck disable=SC2086  # SERVER_ARGS is a list of flags
  env "${env[@]}" "$bin" --listen=127.0.0.1:0 --ready_file="$ready" \
    --metrics_listen=127.0.0.1:0 "$@" $SERVER_ARGS >/dev/null 2>"$TMP/$name.log" &
  PID[$name]=$!
  STARTED_PIDS+=("${PID[$name]}")
  local n
  for ((n = 0; n < 200; n++)); do
    [[ -f $ready ]] && break
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -f $ready ]]; then
    echo "run.sh: $name did not start; its log:" >&2
    tail -20 "$TMP/$name.log" >&2
    exit 1
  fi
  PORT[$name]=$(sed -n 's/^grpc_port=//p' "$ready")
  log "$name pid ${PID[$name]} on 127.0.0.1:${PORT[$name]}"
}

SETUP_CODE=bench-setup-$RANDOM$RANDOM
(umask 077 && printf '%s\n' "$SETUP_CODE" >"$TMP/setup-code")  # identity takes it by file only
REDIS_FLAG=--redis=127.0.0.1:$REDIS_PORT
# The key every service needs to sign and check session records (README "Security model").
(umask 077; head -c 32 /dev/urandom >"$TMP/session-mac.key")
export SMP_SESSION_MAC_KEY_FILE="$TMP/session-mac.key"
start_server echo "$ECHO_BIN"
start_server identity "$BUILD/services/identity/identity" --data_dir="$TMP/identity" \
  --setup_code_file="$TMP/setup-code" "$REDIS_FLAG"
start_server identity_nocache "$BUILD/services/identity/identity" \
  --data_dir="$TMP/identity-nocache" --setup_code_file="$TMP/setup-code" "$REDIS_FLAG" --auth_cache_ttl=0
start_server scheduling "$BUILD/services/scheduling/scheduling" --data_dir="$TMP/scheduling" \
  "$REDIS_FLAG"
# Inventory asks scheduling where each issue's appointment is, as its service account (as
# scripts/stack.sh runs it): the benchmark's first admin (the account the scenarios log in as)
# and svc.inventory with its credentials file (0600), made through smpctl.
BENCH_USER=bench-admin
BENCH_PASSWORD="bench password 0123"  # smp_loadgen's default --password
(
  umask 077
  export SMPCTL_IDENTITY=127.0.0.1:${PORT[identity]} SMPCTL_TOKEN_FILE=$TMP/smpctl-token
  printf '%s\n' "$BENCH_PASSWORD" >"$TMP/admin.password"
  head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$TMP/svc.inventory.password"
  "$SMPCTL" bootstrap-admin --setup_code_file="$TMP/setup-code" --username="$BENCH_USER" \
    --display_name="Benchmark Admin" --password_file="$TMP/admin.password" >/dev/null
  "$SMPCTL" login --username="$BENCH_USER" --password_file="$TMP/admin.password" >/dev/null
  "$SMPCTL" staff create --username=svc.inventory --display_name="inventory service" \
    --role=service --password_file="$TMP/svc.inventory.password" >/dev/null
  printf 'svc.inventory\n%s\n' "$(cat "$TMP/svc.inventory.password")" \
    >"$TMP/svc.inventory.credentials"
) || { echo "run.sh: cannot make the benchmark admin and svc.inventory (smpctl)" >&2; exit 1; }
start_server inventory "$BUILD/services/inventory/inventory" --data_dir="$TMP/inventory" \
  "$REDIS_FLAG" --identity_address="127.0.0.1:${PORT[identity]}" \
  --service_credentials_file="$TMP/svc.inventory.credentials" \
  --scheduling_address="127.0.0.1:${PORT[scheduling]}"
start_server compliance "$BUILD/services/compliance/compliance" --data_dir="$TMP/compliance" \
  --checkpoint_key_file="$TMP/compliance-checkpoint.key" "$REDIS_FLAG"
start_server billing "$BUILD/services/billing/billing" --data_dir="$TMP/billing" "$REDIS_FLAG"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSONL=$OUT/bench-$STAMP.jsonl
TABLE=$OUT/bench-$STAMP.txt
: >"$JSONL"
emit() { printf '%s\n' "$1" >>"$JSONL"; }

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
json_field() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.]*\).*/\1/p" <<<"$1" | head -1; }
json_object() { sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" <<<"$1" | head -1; }

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
MACHINE="$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
emit "{\"kind\":\"meta\",\"time\":\"$STAMP\",\"git\":\"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\",\"machine\":\"$MACHINE\",\"nproc\":$(nproc),\"loadavg_start\":\"$LOADAVG_START\",\"repeat\":$REPEAT,\"warmup\":\"$WARMUP\",\"duration\":\"$DURATION\",\"sched_repeat\":$SCHED_REPEAT,\"malloc_arena_max\":$MALLOC_ARENA,\"server_args\":\"$SERVER_ARGS\"}"

sleep 2
declare -A RSS_START
SERVERS=(echo identity identity_nocache scheduling inventory compliance billing)
for name in "${SERVERS[@]}"; do RSS_START[$name]=$(rss_kb "${PID[$name]}"); done

# ---- load runs ----
# Per scenario and concurrency, space-separated values of every repeat.
declare -A QPS P50 P99 ERR ERRS SRV_CPU REDIS_CPU EXPECTED CALLS
# Per key, instead of 127.0.0.1:PORT[SERVER] and SERVER's PID: a gRPC target and the server PIDs
# to watch ("server:pid,server2:pid,..."; their CPU is summed), for several replicas of a service.
declare -A TARGET_OF WATCH_OF
# Each issue asks scheduling where its appointment is: scheduling's CPU is reported beside it.
WATCH_OF[inventory_issue]="server:${PID[inventory]},scheduling:${PID[scheduling]}"
FAILED=0
FAILURES=()  # one line per failed row, run or task, printed at the end
# run_load KEY SERVER SCENARIO CONCURRENCY [loadgen flags...]
run_load() {
  local key=$1 server=$2 scenario=$3 c=$4
  shift 4
  local channels=$((c < 8 ? c : 8))
  local target=${TARGET_OF[$key]:-127.0.0.1:${PORT[$server]}}
  local watch=${WATCH_OF[$key]:-server:${PID[$server]}}
  [[ $server != echo ]] && watch="$watch,redis:${PID[redis]}"
  local line rc=0
  line=$("$LOADGEN" --target="$target" --scenario="$scenario" \
    --concurrency="$c" --channels="$channels" --warmup="$WARMUP" --duration="$DURATION" \
    --max_requests="$MAX_REQUESTS" --max_error_ratio="$MAX_ERROR_RATIO" --json --label="$key" \
    --watch_pids="$watch" "$@") || rc=$?
  if [[ $line != \{* ]]; then  # no result: the setup failed (loadgen said why above)
    log "loadgen failed: $key ($scenario) c=$c: setup"
    FAILED=1
    FAILURES+=("$key ($scenario) c=$c: setup failed (its message is in the log above)")
    ERR[$key,$c]+=" -1"
    ERRS[$key,$c]+="loadgen_failed:1,"
    return
  fi
  if ((rc != 0)); then  # too many failed calls, or the verification failed (said above)
    log "loadgen failed: $key ($scenario) c=$c: exit $rc"
    FAILED=1
    FAILURES+=("$key ($scenario) c=$c: loadgen exit $rc (failed calls or verification; above)")
  fi
  emit "{\"kind\":\"load\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",${line#\{}"
  QPS[$key,$c]+=" $(json_field "$line" throughput_qps)"
  P50[$key,$c]+=" $(json_field "$line" p50_us)"
  P99[$key,$c]+=" $(json_field "$line" p99_us)"
  ERR[$key,$c]+=" $(json_field "$line" error_count)"
  CALLS[$key,$c]+=" $(json_field "$line" calls)"
  local errors expected cpu
  errors=$(json_object "$line" errors | tr -d '"')
  [[ -n $errors ]] && ERRS[$key,$c]+="$errors,"
  expected=$(json_object "$line" expected | tr -d '"')
  [[ -n $expected ]] && EXPECTED[$key,$c]+="$expected,"
  cpu=$(json_object "$line" cpu_us_per_call)
  SRV_CPU[$key,$c]+=" $(tr ',' '\n' <<<"$cpu" | awk -F: '$1 ~ /^"server/ {t += $2} END {printf "%.1f", t}')"
  REDIS_CPU[$key,$c]+=" $(json_field "{$cpu}" redis)"
}

# median "v1 v2 ..." (0 when empty)
median() {
  tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g |
    awk '{v[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
                           else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# "CODE:n,CODE:m,..." summed by code -> "CODE:total ..."
sum_codes() {
  tr ',' '\n' <<<"$1" | awk -F: 'NF == 2 {t[$1] += $2} END {for (k in t) printf "%s:%d ", k, t[k]}'
}
sum() { tr ' ' '\n' <<<"$1" | awk '{t += $1} END {print t + 0}'; }

ID_SETUP=(--setup_code="$SETUP_CODE")
SETUP=(--setup_code="$SETUP_CODE" --identity_target="127.0.0.1:${PORT[identity]}")
KEYS=(echo get_clinic.cache_on get_clinic.cache_off get_appointment find_availability book
  book_contention inventory_issue billing_balance)
# Rows judged against a target run in every round; the informative rows of the other services
# in the first --sched_repeat rounds.
INFO_KEYS=" find_availability book_contention inventory_issue billing_balance "
if want load; then
log "closed-loop rounds: concurrency $CONCURRENCY, $REPEAT rounds (informative rows: $SCHED_REPEAT)"
for ((r = 1; r <= REPEAT; r++)); do
  for c in $CONCURRENCY; do
    run_load echo echo echo "$c"
    run_load get_clinic.cache_on identity identity.get_clinic "$c" "${ID_SETUP[@]}"
    run_load get_clinic.cache_off identity_nocache identity.get_clinic "$c" "${ID_SETUP[@]}"
    run_load get_appointment scheduling scheduling.get_appointment "$c" "${SETUP[@]}"
    run_load book scheduling scheduling.book "$c" "${SETUP[@]}" --booking_slots="$BOOKING_SLOTS"
    if ((r <= SCHED_REPEAT)); then
      run_load find_availability scheduling scheduling.find_availability "$c" "${SETUP[@]}"
      run_load book_contention scheduling scheduling.book_contention "$c" "${SETUP[@]}" \
        --booking_slots="$BOOKING_SLOTS"
      run_load inventory_issue inventory inventory.issue "$c" "${SETUP[@]}" \
        --scheduling_target="127.0.0.1:${PORT[scheduling]}" --booking_slots="$BOOKING_SLOTS"
      run_load billing_balance billing billing.balance "$c" "${SETUP[@]}"
    fi
  done
done

# Open loop: inventory issues at a fixed rate; latency counted from each call's intended time.
OPEN_LINE=""
OPEN_RC=0
log "inventory.issue open loop at $ISSUE_RATE/s"
OPEN_LINE=$("$LOADGEN" --target="127.0.0.1:${PORT[inventory]}" --scenario=inventory.issue \
  --rate="$ISSUE_RATE" --concurrency=64 --channels=4 --warmup="$WARMUP" --duration="$DURATION" \
  --max_error_ratio="$MAX_ERROR_RATIO" --json --label=inventory_issue.open \
  --watch_pids="server:${PID[inventory]},scheduling:${PID[scheduling]}" "${SETUP[@]}" \
  --scheduling_target="127.0.0.1:${PORT[scheduling]}" \
  --booking_slots=$((ISSUE_RATE * 30 + 100))) || OPEN_RC=$?
[[ $OPEN_LINE == \{* ]] && emit "{\"kind\":\"load\",${OPEN_LINE#\{}"
if ((OPEN_RC != 0)); then
  log "loadgen failed: inventory.issue open loop (exit $OPEN_RC)"
  FAILED=1
  FAILURES+=("inventory_issue.open (inventory.issue) at $ISSUE_RATE/s: loadgen exit $OPEN_RC (above)")
  [[ $OPEN_LINE == \{* ]] || OPEN_LINE=""
fi
fi  # want load (the block above is left unindented to keep the diff small)

# Timed tasks: one line per task.
TASK_LINES=()
# run_tasks SERVER SCENARIO [loadgen flags...]
run_tasks() {
  local server=$1 scenario=$2
  shift 2
  log "$scenario: seeding and timing its tasks ($TASK_RUNS runs each)"
  local out
  if ! out=$("$LOADGEN" --target="127.0.0.1:${PORT[$server]}" --scenario="$scenario" --json \
    --task_runs="$TASK_RUNS" --seed_concurrency="$SEED_CONCURRENCY" \
    --watch_pids="server:${PID[$server]}" "${SETUP[@]}" "$@"); then
    log "loadgen failed: $scenario"
    FAILED=1
    FAILURES+=("$scenario: setup or a task failed (its message is in the log above)")
    TASK_LINES+=("{\"scenario\":\"$scenario\",\"task\":\"FAILED\"}")
    return
  fi
  local line
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    emit "$line"
    TASK_LINES+=("$line")
  done <<<"$out"
}
want sync && run_tasks scheduling scheduling.sync --sync_changes="$SYNC_CHANGES"
# 1,000 watchers of one clinic on one scheduling process: a process of its own, started with the
# stream caps raised to hold them (--max_streams_per_session and --max_streams; the defaults, 8
# and 256, stay as they are everywhere else), stopped by its PID afterwards.
if want sync && ((FANOUT_WATCHERS > 0)); then
  start_server scheduling_fanout "$BUILD/services/scheduling/scheduling" \
    --data_dir="$TMP/scheduling-fanout" "$REDIS_FLAG" \
    --max_streams_per_session="$FANOUT_WATCHERS" --max_streams="$((FANOUT_WATCHERS + 16))"
  run_tasks scheduling_fanout scheduling.watch_fanout --fanout_watchers="$FANOUT_WATCHERS" \
    --fanout_changes="$FANOUT_CHANGES"
  kill -TERM "${PID[scheduling_fanout]}" 2>/dev/null || true
  wait "${PID[scheduling_fanout]}" 2>/dev/null || true
fi
want report && run_tasks compliance compliance.report --report_procedures="$REPORT_PROCEDURES" \
  --report_clinics="$REPORT_CLINICS" --bulk_seed_data_dir="$TMP/compliance" \
  --label="$REPORT_CLINICS clinics, bulk-seeded"
# After the 10-clinic row, so that row reports from a database of its year alone.
want report100 && run_tasks compliance compliance.report \
  --report_procedures="$REPORT100_PROCEDURES" --report_clinics="$REPORT100_CLINICS" \
  --bulk_seed_data_dir="$TMP/compliance" --label="$REPORT100_CLINICS clinics, bulk-seeded"

sleep 2
declare -A RSS_AFTER HWM
for name in "${SERVERS[@]}"; do
  RSS_AFTER[$name]=$(rss_kb "${PID[$name]}")
  HWM[$name]=$(hwm_kb "${PID[$name]}")
done
# ---- 8. booking on PostgreSQL with 1, 2 and 3 scheduling replicas (issue 15) ----
PG_BIN=${SMP_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
PG_SKIPPED=""  # why section 8 did not run
PG_MAX=0
for n in $PG_REPLICAS; do ((n > PG_MAX)) && PG_MAX=$n; done
# as_postgres CMD...: PostgreSQL refuses to run as root; as root it runs as the postgres user.
as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_postgres() {
  PG_DIR=$(mktemp -d /tmp/smp-bench-pg.XXXXXX)
  local password
  password=$(head -c 24 /dev/urandom | base64 | tr -d '=+/\n')
  printf '%s\n' "$password" >"$PG_DIR/pwfile"
  (umask 077 && printf '%s\n' "$password" >"$TMP/pg.password")  # the services' copy
  [[ $(id -u) == 0 ]] && chown -R postgres:postgres "$PG_DIR"
  if ! as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U smp --pwfile="$PG_DIR/pwfile" \
    --auth=scram-sha-256 --no-locale --encoding=UTF8 >"$TMP/initdb.log" 2>&1; then
    PG_SKIPPED="initdb failed: $(tail -3 "$TMP/initdb.log" | tr '\n' ' ')"
    return 1
  fi
  rm -f "$PG_DIR/pwfile"
  PG_PORT=$(free_port)
  as_postgres "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -h 127.0.0.1 -k "$PG_DIR" \
    -c logging_collector=off >"$TMP/postgres.log" 2>&1 &
  STARTED_PIDS+=("$!")  # runuser as root, else postgres itself
  local n
  for ((n = 0; n < 300; n++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 0.1
  done
  if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    PG_SKIPPED="postgres did not start: $(tail -3 "$TMP/postgres.log" | tr '\n' ' ')"
    return 1
  fi
  PG_POSTMASTER=$(head -1 "$PG_DIR/data/postmaster.pid")
  STARTED_PIDS+=("$PG_POSTMASTER")
  log "postgres pid $PG_POSTMASTER on 127.0.0.1:$PG_PORT ($PG_DIR, fsync on)"
  # The services refuse a database whose collation is not C.
  if ! PGPASSWORD=$password "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U smp -d postgres -qAt \
    -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE scheduling TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" \
    >>"$TMP/postgres.log" 2>&1; then
    PG_SKIPPED="CREATE DATABASE failed: $(tail -3 "$TMP/postgres.log" | tr '\n' ' ')"
    return 1
  fi
}
PG_KEYS=()
if ! want pg; then
  PG_SKIPPED="not asked for (--only)"
elif ((PG_MAX == 0)); then
  PG_SKIPPED="--pg_replicas is empty"
elif [[ ! -x $PG_BIN/postgres || ! -x $PG_BIN/initdb ]]; then
  PG_SKIPPED="no PostgreSQL 15 in $PG_BIN (Debian: apt-get install postgresql-15)"
elif [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
  PG_SKIPPED="run as root, and there is no postgres user to run PostgreSQL as"
elif start_postgres; then
  PG_TARGET=""
  PG_WATCH=""
  for ((i = 1; i <= PG_MAX; i++)); do
    start_server "scheduling_pg$i" "$BUILD/services/scheduling/scheduling" \
      --data_dir="$TMP/scheduling-pg$i" "$REDIS_FLAG" \
      --database="postgresql://smp@127.0.0.1:$PG_PORT/scheduling" \
      --database_password_file="$TMP/pg.password"
    PG_TARGET+="${PG_TARGET:+,}127.0.0.1:${PORT[scheduling_pg$i]}"
    name=server
    ((i > 1)) && name=server$i
    PG_WATCH+="${PG_WATCH:+,}$name:${PID[scheduling_pg$i]}"
    TARGET_OF[book_postgresql.x$i]="ipv4:$PG_TARGET"
    WATCH_OF[book_postgresql.x$i]=$PG_WATCH
  done
  log "booking on PostgreSQL: replicas $PG_REPLICAS at concurrency $PG_CONCURRENCY"
  for c in $PG_CONCURRENCY; do
    [[ -n ${QPS[echo,$c]:-} ]] || run_load echo echo echo "$c"
    run_load book_sqlite.x1 scheduling scheduling.book "$c" "${SETUP[@]}" \
      --booking_slots="$BOOKING_SLOTS"
    for n in $PG_REPLICAS; do
      run_load "book_postgresql.x$n" scheduling_pg1 scheduling.book "$c" "${SETUP[@]}" \
        --booking_slots="$BOOKING_SLOTS" --lb_policy=round_robin
    done
  done
  PG_KEYS=(book_sqlite.x1)
  for n in $PG_REPLICAS; do PG_KEYS+=("book_postgresql.x$n"); done
fi
[[ -n $PG_SKIPPED ]] && log "booking on PostgreSQL skipped: $PG_SKIPPED"

ELAPSED=$(($(date +%s) - RUN_START))

# ---- table ----
{
  printf '\nsmp-suite benchmark, %s, git %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf 'machine: %s; load generator, Redis and all servers share it; MALLOC_ARENA_MAX=%s\n' \
    "$MACHINE" "$([[ $MALLOC_ARENA == 0 ]] && echo default || echo "$MALLOC_ARENA")"
  printf '\nthroughput and latency: closed loop, median of %s runs (info rows of the other services:\n' \
    "$REPEAT"
  printf '%s) of %s (after %s warm-up) each; ratios vs echo at the same concurrency. Targets:\n' \
    "$SCHED_REPEAT" "$DURATION" "$WARMUP"
  printf 'authenticated reads (get_clinic.cache_on, get_appointment) qps/echo >= %s and p99/echo\n' \
    "$MIN_QPS_RATIO"
  printf '<= %s; book qps/echo >= %s; the others: info. book_contention and inventory_issue count\n' \
    "$MAX_P99_RATIO" "$MIN_BOOK_QPS_RATIO"
  printf 'answered calls (OK and the expected FAILED_PRECONDITION, shown as exp). A row with more\n'
  printf 'than %s of its calls failed (any other status) is FAIL(err) and fails the run.\n' \
    "$MAX_ERROR_RATIO"
  printf '%-21s %5s %9s %7s %7s %8s %8s %7s %7s  %-9s %s\n' scenario conc qps p50_us p99_us \
    qps/echo p99/echo srv_us rds_us verdict errors
  for c in $CONCURRENCY; do
    eq=$(median "${QPS[echo,$c]:-}")
    ep=$(median "${P99[echo,$c]:-}")
    for key in "${KEYS[@]}"; do
      [[ -n ${QPS[$key,$c]:-}${ERR[$key,$c]:-} ]] || continue
      runs=$REPEAT
      [[ $INFO_KEYS == *" $key "* ]] && runs=$((SCHED_REPEAT < REPEAT ? SCHED_REPEAT : REPEAT))
      q=$(median "${QPS[$key,$c]:-}")
      p50=$(median "${P50[$key,$c]:-}")
      p=$(median "${P99[$key,$c]:-}")
      srv=$(median "${SRV_CPU[$key,$c]:-}")
      rds=$(median "${REDIS_CPU[$key,$c]:-}")
      e=$(sum "${ERR[$key,$c]:-}")
      calls=$(sum "${CALLS[$key,$c]:-}")
      codes=$(sum_codes "${ERRS[$key,$c]:-}")
      failed_codes=$codes
      exp=$(sum_codes "${EXPECTED[$key,$c]:-}")
      [[ -n $exp ]] && codes="${codes}exp ${exp}"
      read -r qr pr verdict < <(awk -v q="$q" -v eq="$eq" -v p="$p" -v ep="$ep" -v e="$e" \
        -v k="$key" -v minq="$MIN_QPS_RATIO" -v maxp="$MAX_P99_RATIO" \
        -v minb="$MIN_BOOK_QPS_RATIO" -v calls="$calls" -v maxe="$MAX_ERROR_RATIO" 'BEGIN {
          qr = eq > 0 ? q / eq : 0; pr = ep > 0 ? p / ep : 0;
          if (e < 0 || e > maxe * calls) v = "FAIL(err)";
          else if (e != 0) v = "MISS(err)";
          else if (k == "echo") v = "baseline";
          else if (k == "book") v = qr >= minb ? "PASS" : "MISS";
          else if (k != "get_clinic.cache_on" && k != "get_appointment") v = "info";
          else if (qr >= minq && pr <= maxp) v = "PASS";
          else v = "MISS";
          printf "%.2f %.2f %s\n", qr, pr, v }')
      [[ $key == echo ]] && rds=-
      printf '%-21s %5s %9s %7s %7s %8s %8s %7s %7s  %-9s %s\n' "$key" "$c" "$q" "$p50" "$p" \
        "$qr" "$pr" "$srv" "$rds" "$verdict" "$codes"
      [[ $verdict == "FAIL(err)" ]] &&
        echo "row $key c=$c: $e of $calls calls failed: ${failed_codes% }" >>"$TMP/row-failures"
      emit "{\"kind\":\"row\",\"scenario\":\"$key\",\"concurrency\":$c,\"runs\":$runs,\"qps\":$q,\"p50_us\":$p50,\"p99_us\":$p,\"qps_ratio\":$qr,\"p99_ratio\":$pr,\"server_cpu_us_per_call\":$srv,\"redis_cpu_us_per_call\":${rds/-/0},\"verdict\":\"$verdict\",\"error_count\":$e,\"errors\":\"${codes% }\"}"
    done
  done
  printf '(srv_us, rds_us: CPU microseconds per call of the server and of redis-server in the\n'
  printf ' measured window; the load generator shares the same %s CPUs)\n' "$(nproc)"

  printf '\ninventory_issue open loop at %s/s for %s (latency from each intended send time):\n' \
    "$ISSUE_RATE" "$DURATION"
  if ! want load; then
    printf '  not run (--only)\n'
  elif [[ -n $OPEN_LINE ]]; then
    printf '  %s qps answered, p50 %s us, p99 %s us, max %s us, errors %s, server CPU %s us/call\n' \
      "$(json_field "$OPEN_LINE" throughput_qps)" "$(json_field "$OPEN_LINE" p50_us)" \
      "$(json_field "$OPEN_LINE" p99_us)" "$(json_field "$OPEN_LINE" max_us)" \
      "$(json_field "$OPEN_LINE" error_count)" \
      "$(json_field "{$(json_object "$OPEN_LINE" cpu_us_per_call)}" server)"
  else
    printf '  FAILED\n'
  fi

  printf '\ntimed tasks (median of %s runs; seeding through the service API, not timed in the task)\n' \
    "$TASK_RUNS"
  printf '%-48s %9s %-10s %8s %11s %8s %13s %12s %8s\n' task items unit median_s items/s \
    srv_cpu_s srv_rss_before srv_peak_MB seed_s
  for line in "${TASK_LINES[@]}"; do
    name="$(sed -n 's/.*"scenario":"\([^"]*\)".*/\1/p' <<<"$line" | head -1) $(sed -n 's/.*"task":"\([^"]*\)".*/\1/p' <<<"$line" | head -1)"
    label=$(sed -n 's/.*"label":"\([^"]*\)".*/\1/p' <<<"$line" | head -1)
    [[ -n $label ]] && name="$name ($label)"
    if [[ $line == *'"task":"FAILED"'* ]]; then
      printf '%-48s FAILED\n' "$name"
      continue
    fi
    unit=$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$line" | head -1)
    printf '%-48s %9s %-10s %8s %11s %8s %13.1f %12.1f %8s\n' "$name" \
      "$(json_field "$line" items)" "$unit" "$(json_field "$line" median_s)" \
      "$(json_field "$line" items_per_s)" "$(json_field "{$(json_object "$line" cpu_s)}" server)" \
      "$(awk -v k="$(json_field "{$(json_object "$line" rss_before_kb)}" server)" 'BEGIN {print k / 1024}')" \
      "$(awk -v k="$(json_field "{$(json_object "$line" peak_rss_kb)}" server)" 'BEGIN {print k / 1024}')" \
      "$(json_field "{$(json_object "$line" setup)}" seed_s)"
    if [[ $line == *'"figures":'* ]]; then
      printf '%-48s %s\n' "  (measured by the task)" \
        "$(json_object "$line" figures | tr -d '"' | sed 's/,/, /g; s/:/ /g')"
    fi
  done

  printf '\nresident memory (VmRSS; target < %s MB idle)\n' "$RSS_TARGET_MB"
  printf '%-18s %9s %15s %12s  %s\n' process idle_MB after_load_MB peak_MB verdict
  for name in "${SERVERS[@]}"; do
    read -r s a h verdict < <(awk -v s="${RSS_START[$name]}" -v a="${RSS_AFTER[$name]}" \
      -v h="${HWM[$name]}" -v t="$RSS_TARGET_MB" 'BEGIN {
        v = (s / 1024 < t) ? "PASS" : "MISS";
        printf "%.1f %.1f %.1f %s\n", s / 1024, a / 1024, h / 1024, v }')
    [[ $name == echo || $name == identity_nocache ]] && verdict=info
    printf '%-18s %9s %15s %12s  %s\n' "$name" "$s" "$a" "$h" "$verdict"
    emit "{\"kind\":\"memory\",\"process\":\"$name\",\"rss_idle_mb\":$s,\"rss_after_load_mb\":$a,\"peak_rss_mb\":$h,\"target_mb\":$RSS_TARGET_MB,\"verdict\":\"$verdict\"}"
  done
  printf '(verdict on the idle reading, the target; after_load and peak are reported, not judged)\n'

  printf '\nbooking on PostgreSQL (issue 15): scheduling.book (each call a durable booking of a free\n'
  printf 'slot, a patient per practitioner lane), one run of %s (after %s warm-up) per row;\n' \
    "$DURATION" "$WARMUP"
  printf 'postgresql xN: N scheduling processes on one PostgreSQL 15 (fsync on, default settings, same\n'
  printf 'machine) behind one round_robin channel; sqlite x1: the one scheduling process of the rows\n'
  printf 'above, run again here; ratios vs echo at the same concurrency.\n'
  if [[ -n $PG_SKIPPED ]]; then
    printf '  skipped: %s\n' "$PG_SKIPPED"
  else
    printf '%-21s %5s %9s %7s %7s %8s %8s  %s\n' backend.replicas conc qps p50_us p99_us \
      qps/echo srv_us errors
    for c in $PG_CONCURRENCY; do
      eq=$(median "${QPS[echo,$c]:-}")
      for key in "${PG_KEYS[@]}"; do
        q=$(median "${QPS[$key,$c]:-}")
        p50=$(median "${P50[$key,$c]:-}")
        p=$(median "${P99[$key,$c]:-}")
        srv=$(median "${SRV_CPU[$key,$c]:-}")
        e=$(sum "${ERR[$key,$c]:-}")
        codes=$(sum_codes "${ERRS[$key,$c]:-}")
        calls=$(sum "${CALLS[$key,$c]:-}")
        qr=$(awk -v q="$q" -v eq="$eq" 'BEGIN { printf "%.2f", (eq > 0 ? q / eq : 0) }')
        printf '%-21s %5s %9s %7s %7s %8s %8s  %s\n' "${key#book_}" "$c" "$q" "$p50" "$p" "$qr" \
          "$srv" "$codes"
        awk -v e="$e" -v calls="$calls" -v maxe="$MAX_ERROR_RATIO" \
          'BEGIN { exit !(e < 0 || e > maxe * calls) }' &&
          echo "row $key c=$c: $e of $calls calls failed: ${codes% }" >>"$TMP/row-failures"
        emit "{\"kind\":\"row\",\"scenario\":\"$key\",\"concurrency\":$c,\"runs\":1,\"qps\":$q,\"p50_us\":$p50,\"p99_us\":$p,\"qps_ratio\":$qr,\"server_cpu_us_per_call\":$srv,\"verdict\":\"info\",\"error_count\":$e,\"errors\":\"${codes% }\"}"
      done
    done
    printf '(srv_us: CPU microseconds per call of the scheduling processes together, not of PostgreSQL)\n'
  fi

  printf '\nload average at start: %s, at end: %s (other work on the machine skews the numbers)\n' \
    "$LOADAVG_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'total time: %dm%02ds; results: %s\n' $((ELAPSED / 60)) $((ELAPSED % 60)) "$JSONL"
} | tee "$TABLE"

# The table ran in a pipeline (a subshell): its failed rows come back through a file.
if [[ -s $TMP/row-failures ]]; then
  mapfile -t ROW_FAILURES <"$TMP/row-failures"
  FAILURES+=("${ROW_FAILURES[@]}")
fi
if ((${#FAILURES[@]} > 0)); then
  {
    printf '\nFAILED: more than %s of a row'"'"'s calls failed, or a scenario failed; its figures\n' \
      "$MAX_ERROR_RATIO"
    printf 'measure refusals, not work:\n'
    printf '  %s\n' "${FAILURES[@]}"
  } | tee -a "$TABLE" >&2
  FAILED=1
fi
exit "$FAILED"
