#!/usr/bin/env bash
# Fills deploy/k8s/overlays/production/secrets (kept out of git) with what the production overlay's
# secretGenerator reads: random keys and passwords, the compliance checkpoint key, and the
# certificates from deploy/make-certs.sh named for the in-cluster Services. Keeps what exists, so
# it never rotates a key by accident. --host adds the console's public name (repeatable).
#   deploy/k8s/make-secrets.sh --host console.smp.example.com && kubectl apply -k deploy/k8s/overlays/production
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/overlays/production/secrets"
namespace="${SMP_NAMESPACE:-smp}"
services="identity scheduling inventory compliance billing"
hosts=()
while (($#)); do
  case "$1" in
    --host) hosts+=("$2"); shift 2 ;;
    --host=*) hosts+=("${1#*=}"); shift ;;
    *) echo "make-secrets: unknown argument $1" >&2; exit 2 ;;
  esac
done
umask 077
mkdir -p "$dir/db" "$dir/tls"
random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }
keep() { [ -s "$1" ] || "${@:2}" >"$1"; }
keep "$dir/session-mac.key" head -c 32 /dev/urandom
keep "$dir/console-csrf.key" head -c 32 /dev/urandom
keep "$dir/redis.password" random
keep "$dir/redis-admin.password" random
for s in $services; do keep "$dir/db/$s.password" random; done
if [ ! -s "$dir/compliance-checkpoint.key" ]; then
  # libsodium's Ed25519 secret key: the 32-byte seed, then the 32-byte public key.
  openssl genpkey -algorithm ed25519 -outform DER -out "$dir/checkpoint.der"
  { tail -c 32 "$dir/checkpoint.der"
    openssl pkey -inform DER -in "$dir/checkpoint.der" -pubout -outform DER | tail -c 32
  } >"$dir/compliance-checkpoint.key"
  rm -f "$dir/checkpoint.der"
fi
names=()
for s in $services console; do names+=("$s" "$s.$namespace" "$s.$namespace.svc"); done
bash "$here/../make-certs.sh" --dir "$dir/tls" --services "$services console" \
  --host "$(IFS=,; echo "${names[*]}")" "${hosts[@]/#/--host=}" >/dev/null
echo "make-secrets: $dir ready"
