#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server for the tests: `.ci/postgres.sh start` prints the lines to eval,
# `.ci/postgres.sh stop` ends it and removes its folder. Runs as the postgres user (initdb refuses root),
# data and unix socket in one temporary folder, no TCP port; the test role may CREATE DATABASE and owns
# the template database reachmap_template, which has the postgis extension (each test database is a copy).
#   eval "$(.ci/postgres.sh start)"   # exports REACHMAP_TEST_POSTGRES_URL and REACHMAP_PG_DIR
#   .ci/postgres.sh stop
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROLE=reachmap_test
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
  if [ ! -x "$BIN/initdb" ] || [ ! -e /usr/share/postgresql/15/extension/postgis.control ]; then
    echo "PostgreSQL 15 with PostGIS is missing: apt-get install -y postgresql-15 postgresql-15-postgis-3" >&2
    exit 1
  fi
  dir=$(mktemp -d /tmp/reachmap-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  run_pg "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  run_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  psql() { run_pg "$BIN/psql" -h "$dir" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
  psql -d postgres -c "CREATE ROLE $ROLE LOGIN CREATEDB"
  psql -d postgres -c "CREATE DATABASE reachmap_template OWNER $ROLE"
  psql -d reachmap_template -c "CREATE EXTENSION postgis"
  psql -d postgres -c "ALTER DATABASE reachmap_template IS_TEMPLATE true"
  echo "export REACHMAP_PG_DIR='$dir'"
  echo "export REACHMAP_TEST_POSTGRES_URL='postgresql://$ROLE@/postgres?host=$dir'"
  ;;
stop)
  dir=${2:-${REACHMAP_PG_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then echo "no server folder given (REACHMAP_PG_DIR)" >&2; exit 1; fi
  run_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
