#!/bin/bash
# Runs once, when the PostgreSQL volume is empty (docker-entrypoint-initdb.d): a role and a
# database per service, each owned by its role, with the C collation the services require.
# Passwords come from /run/secrets/postgres-init-passwords ("<service> <password>" lines, made by
# make-secrets.sh); no service can reach another's database.
set -euo pipefail
while read -r service password; do
  [ -n "$service" ] || continue
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v svc="$service" -v pw="$password" <<'EOSQL'
CREATE ROLE :"svc" LOGIN PASSWORD :'pw';
CREATE DATABASE :"svc" OWNER :"svc" LOCALE 'C' ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"svc" FROM PUBLIC;
EOSQL
done </run/secrets/postgres-init-passwords
