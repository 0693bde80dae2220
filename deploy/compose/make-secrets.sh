#!/usr/bin/env bash
# Makes ./secrets for compose.yaml (next to this script), once; run again, it keeps what exists.
# Compose mounts each file as it is (no uid/mode mapping outside Swarm), and the services refuse
# a secret file that group or others can read, so: the services' files are owned by uid 10001
# (the image's user) with mode 0600, PostgreSQL's by uid 999 (the postgres image's user).
# Run as root (chown). Certificates come from deploy/make-certs.sh, named for the compose hosts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/secrets"
services="identity scheduling inventory compliance billing"
umask 077
mkdir -p "$dir/db" "$dir/postgres" "$dir/tls"
random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }
keep() { [ -s "$1" ] || "${@:2}" >"$1"; }

keep "$dir/session-mac.key" head -c 32 /dev/urandom
keep "$dir/console-csrf.key" head -c 32 /dev/urandom
keep "$dir/redis.password" random
keep "$dir/redis-admin.password" random
keep "$dir/postgres/superuser.password" random
for s in $services; do keep "$dir/db/$s.password" random; done
: >"$dir/postgres/passwords"
for s in $services; do printf '%s %s\n' "$s" "$(cat "$dir/db/$s.password")" >>"$dir/postgres/passwords"; done
# The compliance checkpoint key (libsodium's Ed25519 secret key: the 32-byte seed, then the 32-byte
# public key), made here because a secret must exist to be mounted. Back it up apart from the
# database (deploy/README.md, "Backup and restore"); keep an existing chain's key.
if [ ! -s "$dir/compliance-checkpoint.key" ]; then
  openssl genpkey -algorithm ed25519 -outform DER -out "$dir/checkpoint.der"
  { tail -c 32 "$dir/checkpoint.der"
    openssl pkey -inform DER -in "$dir/checkpoint.der" -pubout -outform DER | tail -c 32
  } >"$dir/compliance-checkpoint.key"
  rm -f "$dir/checkpoint.der"
fi

bash "$here/../make-certs.sh" --dir "$dir/tls" \
  --services "$services console postgres" \
  --host identity,scheduling,inventory,compliance,billing,console,postgres >/dev/null
cp "$dir/tls/postgres.pem" "$dir/postgres/postgres.pem"
cp "$dir/tls/postgres.key" "$dir/postgres/postgres.key"

chmod -R go-rwx "$dir"
chown -R 10001:10001 "$dir"
chown -R 999:999 "$dir/postgres"
chmod 0644 "$dir/tls/"*.pem
echo "make-secrets: $dir ready"
