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
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or Redis did not start" >&2
exit 1
