# shellcheck shell=bash
# A local PostgreSQL 15 cluster for the suite, sourced by scripts/stack.sh (SMP_DATABASE=postgresql)
# and scripts/rehearsal.sh. Debian's postgresql-15 server programs ($SMP_POSTGRES_BIN overrides
# /usr/lib/postgresql/15/bin). PostgreSQL refuses to run as root, so as root its programs run as
# the `postgres` system user through runuser (the cluster directory is chowned to it), as
# common/db/testing/postgres_server.cc does for the tests; as anyone else they run as that user.
# The cluster: superuser `smp` with the password from a file (scram-sha-256 only, no trust), no
# locale (C), UTF-8; one database per service, created with the C collation the backend insists
# on. Nothing here kills by name: pg_stop signals the postmaster named in the cluster's own
# postmaster.pid and waits for the PID pg_start started.

pg_bin="${SMP_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
pg_as=()     # the prefix that runs a PostgreSQL program as its owner (runuser as root)
pg_pid=""    # the PID pg_start started (runuser's, as root)
pg_dir=""    # the cluster's directory (data/ and the unix socket)

# pg_setup: checks the programs and picks the account; fails with the reason.
pg_setup() {
  if [ ! -x "$pg_bin/postgres" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "postgresql: no PostgreSQL 15 in $pg_bin (apt-get install postgresql-15, or set SMP_POSTGRES_BIN)" >&2
    return 1
  fi
  pg_as=()
  if [ "$(id -u)" = 0 ]; then
    if ! id -u postgres >/dev/null 2>&1; then
      echo "postgresql: running as root, and PostgreSQL refuses root: no postgres user to run it as (apt-get install postgresql-15 creates it)" >&2
      return 1
    fi
    pg_as=(runuser -u postgres --)
  fi
}

# pg_new_password FILE: a generated password in FILE (0600), made once.
pg_new_password() {
  (
    umask 077
    [ -s "$1" ] || head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$1"
  )
  chmod 600 "$1"
}

# pg_init DIR PASSWORD_FILE LOG: makes the cluster in DIR/data unless it is there. DIR is 0700 and
# belongs to the account PostgreSQL runs as; as root, that account must be able to reach DIR: a
# parent directory of ours that it cannot enter gets search permission for others (o+x, which
# lists nothing), any other parent is an error naming it.
pg_init() {
  local dir=$1 password_file=$2 log=$3
  pg_dir=$dir
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "${#pg_as[@]}" -gt 0 ]; then
    chown postgres:postgres "$dir"
    local parent
    parent=$(dirname "$dir")
    if ! "${pg_as[@]}" test -x "$parent" && [ -O "$parent" ]; then
      chmod o+x "$parent"
    fi
    if ! "${pg_as[@]}" test -w "$dir"; then
      echo "postgresql: the postgres user cannot reach $dir (a parent directory denies it); choose an SMP_DATA_DIR it can reach" >&2
      return 1
    fi
  fi
  [ -f "$dir/data/PG_VERSION" ] && return 0
  # initdb reads the password from a file it can read: a copy it owns, removed straight after.
  local pwfile="$dir/initdb.password"
  (
    umask 077
    cp "$password_file" "$pwfile"
  )
  [ "${#pg_as[@]}" -gt 0 ] && chown postgres:postgres "$pwfile"
  if ! "${pg_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U smp --pwfile="$pwfile" \
    --auth=scram-sha-256 --no-locale --encoding=UTF8 --no-instructions >>"$log" 2>&1; then
    rm -f "$pwfile"
    echo "postgresql: initdb failed; see $log" >&2
    return 1
  fi
  rm -f "$pwfile"
}

# pg_allow CIDR: password logins from CIDR too (the cluster allows only 127.0.0.1 and ::1 as
# initdb makes it). Added once.
pg_allow() {
  local line="host all smp $1 scram-sha-256"
  grep -qxF "$line" "$pg_dir/data/pg_hba.conf" || echo "$line" >>"$pg_dir/data/pg_hba.conf"
}

# pg_start ADDRESS PORT LOG [PREFIX...]: starts postgres on ADDRESS:PORT (its unix socket in the
# cluster directory), through PREFIX when given (e.g. `ip netns exec host-a`), and waits until it
# accepts connections (60 s at most).
pg_start() {
  local address=$1 port=$2 log=$3
  shift 3
  "$@" "${pg_as[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -h "$address" -p "$port" \
    -k "$pg_dir" -c logging_collector=off -c max_connections=200 >>"$log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 1 600); do
    if "$@" "$pg_bin/pg_isready" -q -h "$address" -p "$port" -d postgres -U smp; then return 0; fi
    kill -0 "$pg_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "postgresql: the server did not start; see $log" >&2
  return 1
}

# pg_create_databases ADDRESS PORT PGPASS_FILE NAME... [-- PREFIX...]: one database per name,
# unless it exists, with the C collation.
pg_create_databases() {
  local address=$1 port=$2 pgpass=$3
  shift 3
  local names=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    names+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  local name exists
  for name in "${names[@]}"; do
    exists=$(PGPASSFILE="$pgpass" "$@" "$pg_bin/psql" -X -q -h "$address" -p "$port" -U smp \
      -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
    if [ "$exists" != 1 ]; then
      PGPASSFILE="$pgpass" "$@" "$pg_bin/psql" -X -q -h "$address" -p "$port" -U smp -d postgres \
        -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE $name TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" >/dev/null
    fi
  done
}

# pg_pgpass FILE PASSWORD_FILE: a libpq password file (0600) for psql, the superuser's password.
pg_pgpass() {
  (
    umask 077
    printf '*:*:*:smp:%s\n' "$(tr -d '\n' <"$2")" >"$1"
  )
}

# pg_stop: a fast shutdown (SIGINT to the postmaster named in postmaster.pid: clients are
# disconnected, a checkpoint is written), then waits for the PID pg_start started; SIGKILL to both
# after 30 s.
pg_stop() {
  [ -n "$pg_pid" ] || return 0
  local postmaster=""
  [ -f "$pg_dir/data/postmaster.pid" ] && postmaster=$(head -n 1 "$pg_dir/data/postmaster.pid")
  # Only the postmaster we started: pg_start's PID itself, or its child (under runuser).
  if [ -z "$postmaster" ] || { [ "$postmaster" != "$pg_pid" ] &&
    [ "$(ps -o ppid= -p "$postmaster" 2>/dev/null | tr -d ' ')" != "$pg_pid" ]; }; then
    postmaster=$pg_pid
  fi
  kill -INT "$postmaster" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pg_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pg_pid" 2>/dev/null; then
    kill -KILL "$postmaster" "$pg_pid" 2>/dev/null || true
  fi
  wait "$pg_pid" 2>/dev/null || true
  pg_pid=""
}
