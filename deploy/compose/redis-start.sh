#!/bin/sh
# Starts one member of the Redis set of compose.yaml: `primary`, `replica` or `sentinel`.
# The configuration is written on the first start only: afterwards Sentinel owns it (it rewrites
# `replicaof` on failover), so a restarted former primary comes back as whatever Sentinel decided.
# ACL: the services' user `smp` may touch only smp:* keys and no admin or dangerous command but
# ROLE (as scripts/stack.sh, plus what the Sentinel client needs), and on the sentinels only PING
# and SENTINEL get-master-addr-by-name; `default` (password redis-admin-password) is for
# replication, the sentinels among themselves and operators.
set -eu
role="$1"
admin="$(cat /run/secrets/redis-admin-password)"
case "$role" in
  primary | replica)
    conf=/data/redis.conf
    if [ ! -f "$conf" ]; then
      smp_password="$(cat /run/secrets/redis-password)"
      umask 077
      {
        echo "port 6379"
        echo "dir /data"
        echo "appendonly yes"
        echo "appendfsync everysec"
        echo "save \"\""
        echo "replica-announce-ip redis-$role"
        echo "masteruser default"
        echo "masterauth $admin"
        echo "user default on >$admin ~* &* +@all"
        echo "user smp on >$smp_password ~smp:* &* +@all -@dangerous -@admin +role"
        [ "$role" = replica ] && echo "replicaof redis-primary 6379"
      } >"$conf"
      chown redis:redis "$conf"
    fi
    exec docker-entrypoint.sh redis-server "$conf"
    ;;
  sentinel)
    conf=/data/sentinel.conf
    smp_password="$(cat /run/secrets/redis-password)"
    umask 077
    cat >"$conf" <<EOC
port 26379
dir /data
user default on >$admin ~* &* +@all
user smp on >$smp_password -@all +ping +sentinel|get-master-addr-by-name
sentinel sentinel-user default
sentinel sentinel-pass $admin
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel monitor smp-redis redis-primary 6379 2
sentinel auth-user smp-redis default
sentinel auth-pass smp-redis $admin
sentinel down-after-milliseconds smp-redis 5000
sentinel failover-timeout smp-redis 30000
sentinel parallel-syncs smp-redis 1
EOC
    chown redis:redis "$conf"
    exec docker-entrypoint.sh redis-server "$conf" --sentinel
    ;;
  *)
    echo "redis-start: want primary, replica or sentinel" >&2
    exit 2
    ;;
esac
