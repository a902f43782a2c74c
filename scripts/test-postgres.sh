#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL cluster on 127.0.0.1 for the test suite.
#   scripts/test-postgres.sh start DIR PORT   -> prints the SQLAlchemy URL
#   scripts/test-postgres.sh stop DIR
set -euo pipefail
action=${1:?start|stop}
dir=${2:?data directory}
port=${3:-54329}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_postgres "'$pgbin/initdb' -D '$dir' -A trust -U postgres --no-sync -E UTF8" >/dev/null
    fi
    as_postgres "'$pgbin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_postgres "'$pgbin/pg_ctl' -D '$dir' -m fast -w stop" >/dev/null || true
    ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
