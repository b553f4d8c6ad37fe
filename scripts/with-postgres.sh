#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, removed again on exit.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# The command sees DATABASE_URL=postgres://postgres@127.0.0.1:PORT/leadflow.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/postgres" ]; then
  echo "PostgreSQL 15 is missing: apt-get install -y postgresql (or set PG_BIN)." >&2
  exit 1
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${PG_PORT:-55432}
while port_in_use "$port"; do port=$((port + 1)); done

dir=$(mktemp -d -t leadflow-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi

# Run a PostgreSQL program as the cluster's owner, from a folder that owner can enter.
as_owner() { (cd "$dir" && "${as_pg[@]}" "$@"); }

stop_cluster() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop_cluster EXIT
trap "exit 130" INT
trap "exit 143" TERM

as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-F -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres leadflow

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/leadflow"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') runs on 127.0.0.1:$port (throwaway)."
set +e
"$@"
status=$?
set -e
exit "$status"
