#!/usr/bin/env bash
# Start PostgreSQL and Redis on 127.0.0.1 when they are not running (installing them if
# missing), then wait until both answer. Used by `make test` under CI=true.
set -euo pipefail

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
if ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi

if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis_up; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

for _ in $(seq 1 60); do
  if pg_up && redis_up; then
    echo "PostgreSQL and Redis are up"
    break
  fi
  sleep 1
done
if ! pg_up || ! redis_up; then
  echo "PostgreSQL or Redis did not start" >&2
  exit 1
fi

# A streaming replica of the primary on port 5433 (REPLICA=0 leaves it out): the database
# router's tests read from it (tests/test_replicas.py). PostgreSQL's own tools make it:
# pg_basebackup copies the primary and writes the standby's connection (-R), and the standby
# replays the primary's WAL as it streams.
replica_up() { pg_isready -h 127.0.0.1 -p "${REPLICA_PORT:-5433}" -q 2>/dev/null; }
if [ "${REPLICA:-1}" = "1" ] && ! replica_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  bin=/usr/lib/postgresql/$version/bin
  dir=/var/lib/postgresql/$version/replica
  hba=$(psql -h 127.0.0.1 -U postgres -Atc "SHOW hba_file")
  if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    echo "host replication all 127.0.0.1/32 trust" >> "$hba"
    psql -h 127.0.0.1 -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
  fi
  if [ ! -s "$dir/PG_VERSION" ]; then
    rm -rf "$dir"
    install -d -o postgres -g postgres -m 0700 "$dir"
    runuser -u postgres -- "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$dir" -R -X stream
    cat > "$dir/postgresql.conf" <<CONF
port = ${REPLICA_PORT:-5433}
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
hot_standby = on
hot_standby_feedback = on
# Replaying the drop of a test database waits at most this long for readers on it.
max_standby_streaming_delay = 5s
CONF
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$dir/pg_hba.conf"
    chown postgres:postgres "$dir/postgresql.conf" "$dir/pg_hba.conf"
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -l "$dir/replica.log" -w -t 60 start >/dev/null
  if replica_up; then
    echo "PostgreSQL replica is up on ${REPLICA_PORT:-5433}"
  else
    echo "PostgreSQL replica did not start: $dir/replica.log" >&2
    exit 1
  fi
fi
