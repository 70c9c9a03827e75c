#!/usr/bin/env bash
# Throwaway services for the tests, under one temp dir, on private ports.
#   scripts/test-services.sh start DIR   -> starts PostgreSQL in DIR, prints `export` lines to eval
#   scripts/test-services.sh stop DIR    -> stops what start started
set -euo pipefail
cmd=${1:?usage: test-services.sh start|stop DIR}
dir=${2:?usage: test-services.sh start|stop DIR}
pg_port=${ATOLL_TEST_PG_PORT:-55432}

pgbin() {
  local v
  for v in /usr/lib/postgresql/*/bin; do [ -x "$v/pg_ctl" ] && echo "$v"; done | sort -V | tail -n 1
}

# initdb and postgres refuse to run as root: run them as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    bin=$(pgbin)
    [ -n "$bin" ] || { echo "test-services: PostgreSQL not installed (apt-get install -y postgresql)" >&2; exit 1; }
    mkdir -p "$dir/pg"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir/pg"
    as_pg "$bin/initdb" -D "$dir/pg/data" -U atoll --auth=trust -E UTF8 >"$dir/pg/initdb.log" 2>&1
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
      -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    as_pg "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U atoll -d postgres -qc "CREATE DATABASE atoll_test" >/dev/null
    echo "export ATOLL_TEST_POSTGRES=postgres://atoll:atoll@127.0.0.1:$pg_port/atoll_test"
    ;;
  stop)
    bin=$(pgbin)
    if [ -n "$bin" ] && [ -f "$dir/pg/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: test-services.sh start|stop DIR" >&2; exit 2 ;;
esac
