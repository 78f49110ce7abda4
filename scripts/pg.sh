#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests and dev loops, from Debian's postgresql package.
#
#   scripts/pg.sh install          apt-get install postgresql, only if no server binaries exist
#   scripts/pg.sh bindir           print the server bin directory (newest version found)
#   scripts/pg.sh start DIR [PORT] initdb into DIR (once) and start on 127.0.0.1:PORT; prints a
#                                  SQLAlchemy URL for the `postgres` database on stdout.
#                                  PORT defaults to a free port chosen by the kernel.
#   scripts/pg.sh stop DIR         fast shutdown of the server in DIR (no error if not running)
#   scripts/pg.sh url DIR [DB]     print the SQLAlchemy URL of a running server in DIR
#
# The server listens on 127.0.0.1 only, its Unix socket lives in DIR, fsync stays on, and the
# `ledger` superuser has a random password (scram-sha-256), kept in DIR/password (mode 0600).
# PostgreSQL refuses to run as root: as root the cluster is owned by and run as the `postgres`
# system user (created by the Debian package), and DIR is handed to that user.
set -euo pipefail

PG_USER=ledger

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
  local candidate best=""
  # Debian's layout first (sorted by version so the newest wins), then whatever is on PATH.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then best=$candidate; fi
  done
  if [ -z "$best" ] && command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    best=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  fi
  [ -n "$best" ] || return 1
  echo "$best"
}

cmd_install() {
  if find_bindir >/dev/null; then
    echo "pg.sh: PostgreSQL server binaries already present in $(find_bindir)" >&2
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql \
    || { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }
  find_bindir >/dev/null || die "postgresql installed but no initdb/pg_ctl found"
  echo "pg.sh: installed PostgreSQL server binaries in $(find_bindir)" >&2
}

# Run a server binary as the cluster owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
EOF
}

url_for() { # DIR DB
  local dir=$1 db=${2:-postgres} port password
  port=$(cat "$dir/port")
  password=$(cat "$dir/password")
  echo "postgresql+psycopg://$PG_USER:$password@127.0.0.1:$port/$db"
}

cmd_start() {
  local dir=${1:?usage: pg.sh start DIR [PORT]} port=${2:-0} bindir attempt
  bindir=$(find_bindir) || die "no PostgreSQL server binaries; run: scripts/pg.sh install"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user"
    chown postgres: "$dir"
    chmod 0700 "$dir"
    # The postgres user must be able to traverse every parent directory of DIR.
    local parent=$dir
    while parent=$(dirname "$parent") && [ "$parent" != / ]; do
      runuser -u postgres -- test -x "$parent" \
        || die "user postgres cannot traverse $parent; choose a DIR under /tmp or /var/tmp"
    done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    local pwfile
    pwfile=$(mktemp)
    chmod 0600 "$pwfile"
    python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$pwfile"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$pwfile"
    as_owner "$bindir/initdb" --pgdata="$dir/data" --username="$PG_USER" --pwfile="$pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; cat "$dir/initdb.log" >&2; die "initdb failed"; }
    install -m 0600 "$pwfile" "$dir/password"
    rm -f "$pwfile"
  fi
  as_owner mkdir -p "$dir/run"
  # A port chosen free can be taken by another process before the server binds it (the
  # Fabric network's connections draw from the same range): with no port given, choose it
  # just before starting and choose again if the bind fails.
  for attempt in 1 2 3 4 5; do
    local chosen=$port
    [ "$chosen" != 0 ] || chosen=$(free_port)
    echo "$chosen" >"$dir/port"
    # -w waits until the server accepts connections; fsync stays on (the default).
    if as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$chosen -c unix_socket_directories=$dir/run -c fsync=on" \
      start >/dev/null; then
      url_for "$dir" postgres
      return 0
    fi
    if [ "$port" = 0 ] && grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null; then
      echo "pg.sh: port $chosen was taken before the server bound it (attempt $attempt); choosing another" >&2
      continue
    fi
    break
  done
  tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
  die "pg_ctl start failed"
}

cmd_stop() {
  local dir=${1:?usage: pg.sh stop DIR} bindir
  [ -f "$dir/data/postmaster.pid" ] || return 0
  bindir=$(find_bindir) || die "no PostgreSQL server binaries"
  as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 stop >/dev/null
}

case ${1:-} in
  install) cmd_install ;;
  bindir) find_bindir || die "no PostgreSQL server binaries; run: scripts/pg.sh install" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  url) shift; url_for "${1:?usage: pg.sh url DIR [DB]}" "${2:-postgres}" ;;
  *) echo "usage: $0 install | bindir | start DIR [PORT] | stop DIR | url DIR [DB]" >&2; exit 2 ;;
esac
