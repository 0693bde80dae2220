#!/usr/bin/env bash
# Starts the suite from a built tree (run-suite.sh builds it first): a redis-server (sessions;
# append-only file on; access only as the ACL user "smp" with a generated password, the default
# user's password unknown) and the five services on loopback, with SQLite data under SMP_DATA_DIR. The secrets
# live in $SMP_DATA_DIR/secrets (0700, files 0600), made on the first run: redis.password and
# session-mac.key (the key that signs session records; see README "Security model"). On an
# empty system it creates the first admin and the service accounts the services run
# under, as an install does (scripts/demo.sh accounts), then seeds a demo chain; every start then
# plays a demo day through smpctl. SMP_DEMO=0 skips the chain and the day, not the accounts: a
# stack without them cannot start scheduling and inventory.
# Ctrl-C stops everything by PID; the data stays. SMP_STACK_EXIT=1 stops after the demo day (tests).
#
# Ports (override with the environment): SMP_REDIS_PORT=6390, SMP_IDENTITY_PORT=7001,
# SMP_SCHEDULING_PORT=7002, SMP_INVENTORY_PORT=7003, SMP_COMPLIANCE_PORT=7004, SMP_BILLING_PORT=7005;
# metrics on SMP_<SERVICE>_METRICS_PORT (9101..9105). SMP_DATA_DIR=./data, SMP_BUILD_DIR=build.
# SMP_TLS=1: TLS on every hop (see tls_setup below); SMP_REDIS_TLS_PORT (Redis port + 1), SMP_TLS_DIR.
# The web console (services/console) on SMP_CONSOLE_PORT=8443, plain HTTP on loopback only
# (--allow_insecure_http), or HTTPS with the chain CA's console-web certificate when SMP_TLS=1;
# SMP_CONSOLE=0 leaves it out.
# SMP_DATABASE=postgresql: the services keep their data in a local PostgreSQL 15 cluster instead
# of SQLite files (scripts/postgres-lib.sh): made once in $SMP_DATA_DIR/postgres (run as the
# `postgres` user through runuser when we are root), listening on 127.0.0.1:$SMP_POSTGRES_PORT
# (5440), superuser smp with a generated password in $SMP_DATA_DIR/secrets/postgres.password
# (0600), one database per service with the C collation; each service gets
# --database=postgresql://smp@127.0.0.1:PORT/<service> --database_password_file=<that file>.
# It is stopped (by its PID, after the services) like the rest. A data directory stays on the
# backend it was made with ($SMP_DATA_DIR/database says which).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build_dir="${SMP_BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac

data_dir="${SMP_DATA_DIR:-$root/data}"
redis_port="${SMP_REDIS_PORT:-6390}"
identity_port="${SMP_IDENTITY_PORT:-7001}"
identity_metrics_port="${SMP_IDENTITY_METRICS_PORT:-9101}"
scheduling_port="${SMP_SCHEDULING_PORT:-7002}"
scheduling_metrics_port="${SMP_SCHEDULING_METRICS_PORT:-9102}"
inventory_metrics_port="${SMP_INVENTORY_METRICS_PORT:-9103}"
compliance_metrics_port="${SMP_COMPLIANCE_METRICS_PORT:-9104}"
billing_metrics_port="${SMP_BILLING_METRICS_PORT:-9105}"
inventory_port="${SMP_INVENTORY_PORT:-7003}"
compliance_port="${SMP_COMPLIANCE_PORT:-7004}"
billing_port="${SMP_BILLING_PORT:-7005}"
console_port="${SMP_CONSOLE_PORT:-8443}"
database="${SMP_DATABASE:-sqlite}"
# Consumed here: the services would read SMP_DATABASE as their --database (every flag also comes
# from SMP_<FLAG>); the database each one gets is passed to it as a flag below.
unset SMP_DATABASE
postgres_port="${SMP_POSTGRES_PORT:-5440}"
case "$database" in
  sqlite | postgresql) ;;
  *)
    echo "run-suite: SMP_DATABASE=$database: want sqlite or postgresql" >&2
    exit 2
    ;;
esac
mkdir -p "$data_dir/redis" "$data_dir/logs"
# The data of a data directory lives in one backend; starting it on the other would find the
# secrets and the demo chain's ids but none of the records.
if [ -f "$data_dir/database" ] && [ "$(cat "$data_dir/database")" != "$database" ]; then
  echo "run-suite: $data_dir holds a $(cat "$data_dir/database") stack; SMP_DATABASE=$database needs another SMP_DATA_DIR" >&2
  exit 2
fi
echo "$database" >"$data_dir/database"

rm -f "$data_dir"/*.ready  # left by a run that was killed
pids=()
declare -A pid_of

# --- TLS on every hop (SMP_TLS=1) ------------------------------------------------------------
# Clients (smpctl) -> services: mutual TLS, smpctl presents the "operator" certificate. Service ->
# service: mutual TLS over the peer channels, each service presenting svc.<service>, which is its
# identity (so scheduling and inventory run without a password file). Services -> Redis: Debian
# 12's hiredis has no TLS, so each service talks plaintext to a stunnel on loopback
# (127.0.0.1:$redis_port), which speaks mutual TLS to redis-server's tls-port; redis-server
# has no plaintext port. Certificates come from deploy/make-certs.sh into $SMP_TLS_DIR (default
# $data_dir/tls), made once and kept; delete the directory (or run make-certs.sh --renew) to
# re-issue them.
tls="${SMP_TLS:-0}"
tls_dir="${SMP_TLS_DIR:-$data_dir/tls}"
redis_tls_port="${SMP_REDIS_TLS_PORT:-$((redis_port + 1))}"
redis_listen=(--port "$redis_port")
tls_setup() {
  [ "$tls" = 1 ] || return 0
  command -v stunnel4 >/dev/null || { echo "run-suite: SMP_TLS=1 needs stunnel4" >&2; exit 1; }
  # "console": the web console's client certificate, which identity trusts to name browsers.
  # "console-web": the server certificate of the console's HTTPS listener (browsers).
  bash deploy/make-certs.sh --dir "$tls_dir" --client operator --client console \
    --server console-web >/dev/null
  redis_listen=(--port 0 --tls-port "$redis_tls_port" --tls-auth-clients yes
    --tls-cert-file "$tls_dir/redis.pem" --tls-key-file "$tls_dir/redis.key"
    --tls-ca-cert-file "$tls_dir/ca.pem")
  export SMPCTL_TLS_CA="$tls_dir/ca.pem" SMPCTL_TLS_CERT="$tls_dir/operator.pem"
  export SMPCTL_TLS_KEY="$tls_dir/operator.key"
}
# The local end of the Redis hop: plaintext on 127.0.0.1:$redis_port, TLS to the tls-port.
start_redis_tls_proxy() {
  [ "$tls" = 1 ] || return 0
  cat >"$tls_dir/stunnel.conf" <<EOC
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$redis_port
connect = 127.0.0.1:$redis_tls_port
CAfile = $tls_dir/ca.pem
verifyChain = yes
checkIP = 127.0.0.1
cert = $tls_dir/redis-proxy.pem
key = $tls_dir/redis-proxy.key
EOC
  stunnel4 "$tls_dir/stunnel.conf" >"$data_dir/logs/redis-tls-proxy.log" 2>&1 &
  pids+=($!)
}
# service_tls_flags NAME: the flags that put NAME's server and its peer channels on mutual TLS.
tls_flags=()
service_tls_flags() {
  tls_flags=()
  [ "$tls" = 1 ] || return 0
  tls_flags=(--tls_cert="$tls_dir/$1.pem" --tls_key="$tls_dir/$1.key"
    --tls_client_ca="$tls_dir/ca.pem")
  case "$1" in
    scheduling | inventory | compliance | billing)  # the services that call peers
      tls_flags+=(--peer_tls_ca_file="$tls_dir/ca.pem"
        --peer_tls_cert_file="$tls_dir/svc.$1.pem" --peer_tls_key_file="$tls_dir/svc.$1.key"
        --service_credentials_file=)  # last one wins: the certificate is the service's identity
      ;;
  esac
}
tls_setup
# --- end of TLS ------------------------------------------------------------------------------
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${pg_pid:-}" ]; then pg_stop; fi
  echo "stopped; data kept in $data_dir"
}
trap stop_all INT TERM EXIT

# Secrets, made once: the Redis password of the services' ACL user and the session MAC key.
secrets="$data_dir/secrets"
mkdir -p "$secrets"
chmod 700 "$secrets"
redis_user=smp
redis_password_file="$secrets/redis.password"
session_mac_key_file="$secrets/session-mac.key"
(
  umask 077
  [ -s "$redis_password_file" ] ||
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$redis_password_file"
  [ -s "$session_mac_key_file" ] || head -c 32 /dev/urandom >"$session_mac_key_file"
)
chmod 600 "$redis_password_file" "$session_mac_key_file"
# The ACL file holds only SHA-256 hashes. Clients that do not authenticate get NOAUTH: the
# `default` user's password is random and thrown away (not "off": Redis 7.0 replays MULTI/EXEC
# from the append-only file as `default` and silently drops them when it is off,
# redis/redis#14541). The services' user may touch only smp:* keys and no admin or dangerous
# command (FLUSHALL, CONFIG, KEYS...).
redis_acl="$data_dir/redis/users.acl"
(
  umask 077
  printf 'user default on #%s ~* &* +@all\nuser %s on #%s ~smp:* &* +@all -@dangerous -@admin\n' \
    "$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)" "$redis_user" \
    "$(tr -d '\n' <"$redis_password_file" | sha256sum | cut -d' ' -f1)" >"$redis_acl"
)
export SMP_REDIS_USER="$redis_user" SMP_REDIS_PASSWORD_FILE="$redis_password_file"
export SMP_SESSION_MAC_KEY_FILE="$session_mac_key_file"

redis-server "${redis_listen[@]}" --bind 127.0.0.1 --dir "$data_dir/redis" \
  --aclfile "$redis_acl" \
  --appendonly yes --appendfsync everysec --save "" --daemonize no \
  >"$data_dir/logs/redis.log" 2>&1 &
pids+=($!)
start_redis_tls_proxy
for _ in $(seq 1 100); do
  REDISCLI_AUTH="$(cat "$redis_password_file")" redis-cli --user "$redis_user" -p "$redis_port" \
    ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done

# PostgreSQL (SMP_DATABASE=postgresql): the cluster, its password and the services' databases.
database_flags=()
if [ "$database" = postgresql ]; then
  # shellcheck source=scripts/postgres-lib.sh
  source "$root/scripts/postgres-lib.sh"
  pg_setup
  postgres_password_file="$secrets/postgres.password"
  pg_new_password "$postgres_password_file"
  pg_pgpass "$secrets/pgpass" "$postgres_password_file"
  pg_init "$data_dir/postgres" "$postgres_password_file" "$data_dir/logs/postgres.log"
  pg_start 127.0.0.1 "$postgres_port" "$data_dir/logs/postgres.log"
  pg_create_databases 127.0.0.1 "$postgres_port" "$secrets/pgpass" \
    identity scheduling inventory compliance billing
  echo "PostgreSQL 15 on 127.0.0.1:$postgres_port (cluster in $data_dir/postgres), a database per service"
fi
# database_flags_of NAME: NAME's --database flags (none for SQLite, the default).
database_flags_of() {
  database_flags=()
  [ "$database" = postgresql ] || return 0
  database_flags=(--database="postgresql://smp@127.0.0.1:$postgres_port/$1"
    --database_password_file="$postgres_password_file")
}

# start_service NAME PORT METRICS_PORT [extra flags...]
start_service() {
  local name=$1 port=$2 metrics=$3
  shift 3
  mkdir -p -m 700 "$data_dir/$name"  # the services refuse a data directory others can read
  rm -f "$data_dir/$name.ready"
  service_tls_flags "$name"
  database_flags_of "$name"
  "$build_dir/services/$name/$name" \
    --listen="127.0.0.1:$port" --metrics_listen="127.0.0.1:$metrics" \
    --data_dir="$data_dir/$name" --redis="127.0.0.1:$redis_port" \
    --ready_file="$data_dir/$name.ready" "$@" "${tls_flags[@]}" "${database_flags[@]}" \
    2>>"$data_dir/logs/$name.log" &
  pids+=($!)
  pid_of[$name]=$!
}
wait_ready() {
  for name in "$@"; do
    for _ in $(seq 1 150); do
      [ -f "$data_dir/$name.ready" ] && continue 2
      kill -0 "${pid_of[$name]}" 2>/dev/null || break
      sleep 0.1
    done
    echo "run-suite: $name did not start; see $data_dir/logs/$name.log" >&2
    exit 1
  done
}

export SMP_DATA_DIR="$data_dir" SMPCTL="$build_dir/tools/smpctl/smpctl"
export SMPCTL_IDENTITY="127.0.0.1:$identity_port" SMPCTL_SCHEDULING="127.0.0.1:$scheduling_port"
export SMPCTL_INVENTORY="127.0.0.1:$inventory_port" SMPCTL_COMPLIANCE="127.0.0.1:$compliance_port"
export SMPCTL_BILLING="127.0.0.1:$billing_port"

# Identity calls no peer; it starts first, then the service accounts the others run under.
# The console forwards each browser's address (x-smp-client-address), so failed logins count per
# browser; identity believes it only from the console: by its client certificate with SMP_TLS=1,
# else by its loopback address (on one machine, the same trust as the plaintext loopback hop).
if [ "$tls" = 1 ]; then forwarders=cert:console; else forwarders=127.0.0.1; fi
start_service identity "$identity_port" "$identity_metrics_port" --trusted_forwarders="$forwarders"
wait_ready identity

# On an empty system, as an install does (whether or not the demo follows): the first admin
# ("owner", password in $secrets/owner.password) and the service accounts scheduling,
# inventory, compliance and billing run under, each with its credentials file (0600) in $secrets.
if [ -f "$data_dir/identity/identity-setup-code" ]; then
  echo "First run: creating the first admin and the service accounts..."
  bash scripts/demo.sh accounts
fi
peer_flags=(--identity_address="127.0.0.1:$identity_port")
# Compliance (which asks scheduling whose patient is whose) and billing (clinics' time zones from
# identity) run under their accounts too; a data directory from before they had one starts them
# without it, as the warning in their logs says.
optional_credentials() {
  optional_flags=()
  [ "$tls" = 1 ] && return 0  # its client certificate is its identity (service_tls_flags)
  if [ -f "$secrets/svc.$1.credentials" ]; then
    optional_flags=(--service_credentials_file="$secrets/svc.$1.credentials")
    return 0
  fi
  echo "run-suite: no $secrets/svc.$1.credentials; $1 starts without its service account" >&2
}
optional_credentials compliance
compliance_flags=("${optional_flags[@]}")
if [ "$tls" = 1 ] || [ -f "$secrets/svc.compliance.credentials" ]; then
  compliance_flags+=(--scheduling_address="127.0.0.1:$scheduling_port")
fi
start_service compliance "$compliance_port" $compliance_metrics_port "${peer_flags[@]}" \
  --checkpoint_key_file="$data_dir/compliance-checkpoint.key" "${compliance_flags[@]}"
optional_credentials billing
start_service billing "$billing_port" $billing_metrics_port "${peer_flags[@]}" "${optional_flags[@]}"
wait_ready compliance billing
for service in scheduling inventory; do
  # With SMP_TLS=1 the service's client certificate is its identity; else it needs the file.
  if [ "$tls" != 1 ] && [ ! -f "$secrets/svc.$service.credentials" ]; then
    cat >&2 <<EOT
run-suite: no $secrets/svc.$service.credentials, so $service cannot start (the first admin was
created by hand). As an admin, create its service account and credentials file, then start again:
  $SMPCTL staff create --username=svc.$service --role=service --password_file=PASSWORD_FILE
  (umask 077; printf 'svc.$service\n%s\n' "\$(cat PASSWORD_FILE)" >$secrets/svc.$service.credentials)
EOT
    exit 1
  fi
done
start_service inventory "$inventory_port" $inventory_metrics_port "${peer_flags[@]}" \
  --service_credentials_file="$secrets/svc.inventory.credentials" \
  --scheduling_address="127.0.0.1:$scheduling_port" \
  --compliance_address="127.0.0.1:$compliance_port"
start_service scheduling "$scheduling_port" "$scheduling_metrics_port" "${peer_flags[@]}" \
  --service_credentials_file="$secrets/svc.scheduling.credentials" \
  --compliance_address="127.0.0.1:$compliance_port" \
  --inventory_address="127.0.0.1:$inventory_port" \
  --billing_address="127.0.0.1:$billing_port"
wait_ready inventory scheduling

# The web console's gateway: no data, no business logic; it forwards the browser's calls to the
# services with the user's session. With SMP_TLS=1 it reaches them over mutual TLS with its
# "console" certificate (which names no service, so only the user's session counts).
console_binary="$build_dir/services/console/console"
if [ "${SMP_CONSOLE:-1}" = 1 ] && [ ! -x "$console_binary" ]; then
  echo "run-suite: $console_binary is not built; starting without the web console" >&2
  export SMP_CONSOLE=0
fi
if [ "${SMP_CONSOLE:-1}" = 1 ]; then
  # Plain HTTP on loopback only; with SMP_TLS=1 browsers get HTTPS too, with a certificate of the
  # chain's CA (which a browser trusts once it is imported: the URL line below says how).
  console_tls=(--allow_insecure_http)
  console_scheme=http
  if [ "$tls" = 1 ]; then
    console_tls=(--peer_tls_ca_file="$tls_dir/ca.pem" --peer_tls_cert_file="$tls_dir/console.pem"
      --peer_tls_key_file="$tls_dir/console.key" --tls_cert="$tls_dir/console-web.pem"
      --tls_key="$tls_dir/console-web.key")
    console_scheme=https
  fi
  rm -f "$data_dir/console.ready"
  "$console_binary" --listen="127.0.0.1:$console_port" \
    --web_root="$root/services/console/web" --ready_file="$data_dir/console.ready" \
    --identity_address="127.0.0.1:$identity_port" --scheduling_address="127.0.0.1:$scheduling_port" \
    --inventory_address="127.0.0.1:$inventory_port" --compliance_address="127.0.0.1:$compliance_port" \
    --billing_address="127.0.0.1:$billing_port" "${console_tls[@]}" \
    2>>"$data_dir/logs/console.log" &
  pids+=($!)
  pid_of[console]=$!
  wait_ready console
fi

if [ "${SMP_DEMO:-1}" = 1 ]; then
  if [ -f "$secrets/owner.password" ] && [ ! -f "$secrets/chain.env" ]; then
    echo "First run: seeding the demo chain..."
    bash scripts/demo.sh chain
  fi
  if [ -f "$secrets/chain.env" ]; then
    echo
    bash scripts/demo.sh day
  fi
fi
if [ "${SMP_STACK_EXIT:-0}" = 1 ]; then exit 0; fi

cat <<EOT

smp-suite is running (logs in $data_dir/logs):
  redis      127.0.0.1:$redis_port  (sessions; user $redis_user, password in $redis_password_file; append-only file in $data_dir/redis)
  identity   127.0.0.1:$identity_port  gRPC (health, reflection)   metrics http://127.0.0.1:$identity_metrics_port/metrics
  scheduling 127.0.0.1:$scheduling_port  gRPC (health, reflection)   metrics http://127.0.0.1:$scheduling_metrics_port/metrics
  inventory  127.0.0.1:$inventory_port  gRPC (health, reflection)   metrics http://127.0.0.1:$inventory_metrics_port/metrics
  compliance 127.0.0.1:$compliance_port  gRPC (health, reflection)   metrics http://127.0.0.1:$compliance_metrics_port/metrics
  billing    127.0.0.1:$billing_port  gRPC (health, reflection)   metrics http://127.0.0.1:$billing_metrics_port/metrics
EOT
if [ "$database" = postgresql ]; then
  cat <<EOT
  postgresql 127.0.0.1:$postgres_port  (cluster in $data_dir/postgres; user smp, password in $postgres_password_file;
             one database per service: psql "postgresql://smp@127.0.0.1:$postgres_port/scheduling" with PGPASSFILE=$secrets/pgpass)
EOT
fi
if [ -f "$secrets/owner.password" ]; then
  cat <<EOT

Log in with smpctl (addresses are in the SMPCTL_* variables below; run "smpctl help" for commands):
  export SMPCTL_IDENTITY=$SMPCTL_IDENTITY SMPCTL_SCHEDULING=$SMPCTL_SCHEDULING SMPCTL_INVENTORY=$SMPCTL_INVENTORY
  export SMPCTL_COMPLIANCE=$SMPCTL_COMPLIANCE SMPCTL_BILLING=$SMPCTL_BILLING
  $SMPCTL login --username owner --password_file $secrets/owner.password
EOT
  if [ -f "$secrets/chain.env" ]; then
    cat <<EOT
  $SMPCTL login --username desk.austin --password_file $secrets/passwords/desk.austin
Demo accounts: owner; desk.*, tech.*, stock.* for austin, london and sydney; billing.clerk; auditor.
EOT
  else
    cat <<EOT
No demo chain (SMP_DEMO=0): owner is the only admin; svc.scheduling, svc.inventory, svc.compliance
and svc.billing are the service accounts. Create clinics and staff with smpctl (clinic create, staff create, ...).
EOT
  fi
  if [ "${SMP_CONSOLE:-1}" = 1 ]; then
    echo
    echo "Web console: $console_scheme://127.0.0.1:$console_port/  (open it in a browser on this machine; log in as:)"
    printf '  %-14s %s\n' owner "$(cat "$secrets/owner.password")"
    for user in desk.austin tech.austin stock.austin billing.clerk auditor desk.london desk.sydney; do
      [ -f "$secrets/passwords/$user" ] && printf '  %-14s %s\n' "$user" "$(cat "$secrets/passwords/$user")"
    done
    echo "  (each password is also in $secrets/passwords/<user>)"
    if [ "${SMP_DEMO:-1}" = 1 ]; then
      cat <<'EOT'
A day in the browser (README "Web console"): desk.austin registers a patient and books a
consultation; tech.austin records her consent and screening there; desk.austin books her sample
patch and checks her in; tech.austin starts it (needle N-AUSTIN-02..40, pigment picked) and
completes it; billing.clerk takes the payment; auditor generates the report.
EOT
    fi
    if [ "$console_scheme" = https ]; then
      echo "  (its certificate is signed by the chain's CA $tls_dir/ca.pem: import that into the"
      echo "   browser as a trusted authority, e.g. certutil -A -d sql:\$HOME/.pki/nssdb -n smp-ca -t C,, -i ca.pem)"
    fi
  fi
fi
if [ "$tls" = 1 ]; then
  cat <<EOT

Every hop uses TLS (certificates in $tls_dir; Redis on TLS port $redis_tls_port behind the
local proxy on $redis_port). smpctl needs the chain CA and a client certificate:
  export SMPCTL_TLS_CA=$SMPCTL_TLS_CA SMPCTL_TLS_CERT=$SMPCTL_TLS_CERT SMPCTL_TLS_KEY=$SMPCTL_TLS_KEY
EOT
fi
echo
echo "Press Ctrl-C to stop."
wait "${pids[@]}"
