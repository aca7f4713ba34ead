# pg_lib.sh — a real, private PostgreSQL for one test (sourced): initdb into
# a temp directory, pg_ctl start listening only on a Unix socket in that
# directory (no TCP port to collide with anything), stopped and removed at
# exit.  PostgreSQL refuses to run as root: as root the server runs as
# `nobody` (runuser); the clients connect over the socket as the database
# superuser `dt` (trust authentication, reachable only through that private
# socket).  Exits 77 (skip) when the server binaries are not installed.
#
# pg_start — sets PG_DIR, PG_SOCK, and pg_url DBNAME prints a libpq URL;
# pg_createdb NAME creates a database; pg_stop stops the server.

PG_BINDIR=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
if [[ -z $PG_BINDIR || ! -x $PG_BINDIR/initdb || ! -x $PG_BINDIR/pg_ctl ]]; then
  echo "SKIP: PostgreSQL server binaries not installed (apt install postgresql)" >&2
  exit 77
fi
PG_DIR=""
PG_SOCK=""
PG_RUNAS=()

pg_as() { "${PG_RUNAS[@]}" "$@"; }

pg_start() {
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dt-pg.XXXXXX")
  chmod 755 "$PG_DIR"
  mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
  if [[ $(id -u) -eq 0 ]]; then
    if ! command -v runuser >/dev/null; then echo "SKIP: root without runuser" >&2; exit 77; fi
    chown -R nobody: "$PG_DIR"
    PG_RUNAS=(runuser -u nobody --)
  fi
  pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U dt --auth=trust -N -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U dt --auth=trust -N -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; echo "initdb failed" >&2; exit 1; }
  pg_restart_server
}

# Starts (again) the server of PG_DIR; the socket directory stays the same.
pg_restart_server() {
  pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR/sock' -c fsync=off -c max_connections=200" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; echo "pg_ctl start failed" >&2; exit 1; }
  PG_SOCK=$PG_DIR/sock
}

pg_stop_server() { # fast shutdown, keeps the data
  [[ -n $PG_DIR && -d $PG_DIR/data ]] && pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

pg_stop() {
  pg_stop_server
  [[ -n $PG_DIR ]] && rm -rf "$PG_DIR"
  PG_DIR=""
}

pg_url() { echo "postgresql://dt@/$1?host=$PG_SOCK"; }

pg_createdb() {
  "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$(pg_url postgres)" -c "CREATE DATABASE \"$1\"" >/dev/null
}

pg_psql() { # DB SQL — prints unaligned, tuples only
  "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$(pg_url "$1")" -c "$2"
}

# pg_run_scripts SCRIPT… — runs existing server integration tests (by name,
# from this directory) against a fresh PostgreSQL: server_lib.sh gives each
# data directory its own database there (DT_TEST_PG_SOCK).  Fails if any
# fails; a script that skips (77) counts as a failure here, since the
# caller chose it to run.
pg_run_scripts() {
  local here fails=0 s rc
  here=$(dirname "${BASH_SOURCE[0]}")
  trap pg_stop EXIT
  pg_start
  for s in "$@"; do
    rc=0
    DT_TEST_PG_SOCK=$PG_SOCK DT_TEST_PG_BIN=$PG_BINDIR bash "$here/$s" || rc=$?
    if [[ $rc -ne 0 ]]; then echo "FAIL: $s on PostgreSQL (exit $rc)" >&2; fails=$((fails + 1)); else echo "ok: $s on PostgreSQL"; fi
  done
  # The servers really kept their uploads in PostgreSQL (not a SQLite file).
  local db total=0 n
  for db in $(pg_psql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'dt\_%'"); do
    n=$(pg_psql "$db" "SELECT COUNT(*) FROM uploads")
    total=$((total + n))
  done
  echo "uploads stored in PostgreSQL: $total"
  if [[ $total -eq 0 ]]; then echo "FAIL: no upload reached PostgreSQL" >&2; fails=$((fails + 1)); fi
  [[ $fails -eq 0 ]]
}
