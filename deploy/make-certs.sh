#!/usr/bin/env bash
# Makes the chain's private certificate authority and every certificate the suite needs for TLS on
# every hop, with openssl (EC P-256 keys, mode 0600; certificates 0644):
#
#   ca.pem, ca.key                 the chain CA (kept if it exists; ca.key signs everything below)
#   <service>.pem, <service>.key   server certificate of each service (extendedKeyUsage serverAuth)
#                                  for --tls_cert/--tls_key; subjectAltName 127.0.0.1, ::1,
#                                  localhost and every --host
#   svc.<service>.pem, .key        client certificate of each service (clientAuth only), for
#                                  --peer_tls_cert_file/--peer_tls_key_file: a server with
#                                  --tls_client_ca takes a call that presents it and no bearer token
#                                  as that service (role `service`)
#   redis.pem, redis.key           server certificate of redis-server's tls-port
#   <server>.pem, <server>.key     a server certificate (no client certificate) per --server, e.g.
#                                  console-web for the web console's HTTPS listener
#   redis-proxy.pem, .key          client certificate of the TLS proxy in front of Redis (stunnel)
#   <client>.pem, <client>.key     a client certificate per --client (e.g. operator, for smpctl
#                                  against services that require client certificates); a client
#                                  name may not start with "svc."
#
# Usage: deploy/make-certs.sh [--dir DIR] [--host NAME]... [--client NAME]... [--server NAME]... [--days N]
#                             [--ca_days N] [--renew] [--services "identity scheduling ..."]
#   --dir      output directory (default ./certs; created 0700)
#   --host     extra DNS name or IP address for the server certificates (repeat, or commas);
#              also from SMP_CERT_HOSTS (commas)
#   --client   extra client certificate (default: operator)
#   --days     lifetime of the leaf certificates (default 397); --ca_days of a new CA (3650)
#   --renew    re-issue every leaf certificate with the existing CA (rotation); without it,
#              existing files are kept, so running the script again only fills in what is missing
#
# Rotation: run with --renew and restart the services (each reads its files at start). To replace
# the CA itself, see "Transport: TLS on every hop" in README.md.
set -euo pipefail

dir=certs
days=397
ca_days=3650
renew=0
services="identity scheduling inventory compliance billing"
hosts=()
clients=()
servers=()
IFS=',' read -r -a env_hosts <<<"${SMP_CERT_HOSTS:-}"
for h in "${env_hosts[@]}"; do [ -n "$h" ] && hosts+=("$h"); done

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --host) IFS=',' read -r -a more <<<"$2"; hosts+=("${more[@]}"); shift 2 ;;
    --host=*) IFS=',' read -r -a more <<<"${1#*=}"; hosts+=("${more[@]}"); shift ;;
    --client) clients+=("$2"); shift 2 ;;
    --client=*) clients+=("${1#*=}"); shift ;;
    --server) servers+=("$2"); shift 2 ;;
    --server=*) servers+=("${1#*=}"); shift ;;
    --days) days=$2; shift 2 ;;
    --days=*) days=${1#*=}; shift ;;
    --ca_days) ca_days=$2; shift 2 ;;
    --ca_days=*) ca_days=${1#*=}; shift ;;
    --services) services=$2; shift 2 ;;
    --services=*) services=${1#*=}; shift ;;
    --renew) renew=1; shift ;;
    -h|--help) usage ;;
    *) echo "make-certs: unknown argument $1" >&2; usage ;;
  esac
done
((${#clients[@]})) || clients=(operator)
for c in "${clients[@]}"; do
  case "$c" in
    svc.*|"") echo "make-certs: client name \"$c\" is reserved for services" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 1; }

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"

# A new key, mode 0600 from the start (umask 077).
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.pem ] || [ ! -f ca.key ]; then
  new_key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$ca_days" -subj "/O=smp-suite/CN=smp-suite chain CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
  chmod 0644 ca.pem
  echo "make-certs: new chain CA $dir/ca.pem"
fi

# issue NAME CN EXTENSIONS: NAME.key and NAME.pem signed by the CA (kept unless --renew).
issue() {
  local name=$1 cn=$2 ext=$3
  if [ "$renew" = 0 ] && [ -f "$name.pem" ] && [ -f "$name.key" ]; then return; fi
  new_key "$name.key.new"
  openssl req -new -key "$name.key.new" -subj "/O=smp-suite/CN=$cn" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 \
    -days "$days" -extfile "$name.ext" -out "$name.pem.new" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  chmod 0644 "$name.pem.new"
  # Key first, then certificate: a service restarted in between fails to start rather than
  # serving a key that does not match.
  mv -f "$name.key.new" "$name.key"
  mv -f "$name.pem.new" "$name.pem"
  echo "make-certs: issued $dir/$name.pem ($cn)"
}

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for h in "${hosts[@]}"; do
  [ -n "$h" ] || continue
  if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san+=",IP:$h"; else san+=",DNS:$h"; fi
done
server_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"
client_ext() {
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth" \
    "subjectAltName=DNS:$1"
}

for s in $services redis "${servers[@]}"; do issue "$s" "$s" "$server_ext"; done
for s in $services; do issue "svc.$s" "svc.$s" "$(client_ext "svc.$s")"; done
issue redis-proxy redis-proxy "$(client_ext redis-proxy)"
for c in "${clients[@]}"; do issue "$c" "$c" "$(client_ext "$c")"; done
rm -f ca.srl
