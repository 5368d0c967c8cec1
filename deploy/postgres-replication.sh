#!/bin/bash
# Run once by the postgres image when it first creates its database (docker-entrypoint-initdb.d):
# a role the streaming replica (docker-compose.yml, postgres-replica) connects as, and the
# line of pg_hba.conf that lets it stream the primary's WAL.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v pw="$POSTGRES_REPLICATION_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
