#!/usr/bin/env bash
# Throwaway services for the tests, under one temp dir, on private ports.
#   scripts/test-services.sh start DIR   -> starts PostgreSQL and s3rver (an S3 server) in DIR, installs the official
#                                           OpenAI Node SDK for the gateway's SDK test, prints `export` lines to eval
#   scripts/test-services.sh stop DIR    -> stops what start started
set -euo pipefail
cmd=${1:?usage: test-services.sh start|stop DIR}
dir=${2:?usage: test-services.sh start|stop DIR}
pg_port=${ATOLL_TEST_PG_PORT:-55432}
s3_port=${ATOLL_TEST_S3_PORT:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
s3rver_version=3.7.1
s3rver_dir=$repo/.tools/s3rver
s3rver_js=$s3rver_dir/node_modules/s3rver/bin/s3rver.js
# The official OpenAI Node SDK; 6.x is the newest line that runs on Debian 12's Node 20 (7.x's package.json asks
# for Node >= 22: `npm view openai@7 engines`).
openai_node_version=6.49.0
openai_node_dir=$repo/.tools/openai-node

# install_npm PACKAGE VERSION PREFIX: from npm into a git-ignored folder of the repo; skipped when that version is
# already there.
install_npm() {
  local package=$1 version=$2 prefix=$3 installed
  installed=$(node -p 'require(process.argv[1]).version' "$prefix/node_modules/$package/package.json" 2>/dev/null || true)
  [ "$installed" = "$version" ] && return
  command -v npm >/dev/null || { echo "test-services: npm is required to install $package (Node 20)" >&2; exit 1; }
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >"$dir/$package-npm.log" 2>&1 \
    || { echo "test-services: npm install $package@$version failed (see $dir/$package-npm.log)" >&2; exit 1; }
}

start_s3rver() {
  install_npm s3rver "$s3rver_version" "$s3rver_dir"
  if [ -z "$s3_port" ]; then
    local p
    for p in $(seq 54568 54768); do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { s3_port=$p; break; }
    done
    [ -n "$s3_port" ] || { echo "test-services: no free port for s3rver near 54568" >&2; exit 1; }
  fi
  mkdir -p "$dir/s3"
  node "$s3rver_js" --directory "$dir/s3" --port "$s3_port" --address 127.0.0.1 --silent >"$dir/s3rver.log" 2>&1 &
  echo $! >"$dir/s3rver.pid"
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null; then return; fi
    kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "test-services: s3rver did not answer on 127.0.0.1:$s3_port (see $dir/s3rver.log)" >&2
  exit 1
}

stop_s3rver() {
  [ -f "$dir/s3rver.pid" ] || return 0
  local pid
  pid=$(cat "$dir/s3rver.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/s3rver.pid"
}

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
    start_s3rver
    echo "export ATOLL_TEST_S3=http://127.0.0.1:$s3_port"
    install_npm openai "$openai_node_version" "$openai_node_dir"
    printf 'export ATOLL_TEST_OPENAI_NODE=%q\n' "$openai_node_dir"
    ;;
  stop)
    stop_s3rver
    bin=$(pgbin)
    if [ -n "$bin" ] && [ -f "$dir/pg/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: test-services.sh start|stop DIR" >&2; exit 2 ;;
esac
