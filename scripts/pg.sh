#!/usr/bin/env bash
# Throw-away PostgreSQL servers for the tests: initdb on a temporary directory, a free
# port on 127.0.0.1, a random password (scram-sha-256; the URL carries it, so other local
# users cannot walk in), no fsync (nothing here needs to survive a crash).
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
#
#   scripts/pg.sh run CMD...     start a server, run CMD with CHATPASS_TEST_POSTGRES_URL set,
#                                stop the server and delete its directory (also on failure)
#   scripts/pg.sh start          start a server in a new directory; prints "DIR URL"
#   scripts/pg.sh stop DIR       stop it (fast shutdown: open connections are cut)
#   scripts/pg.sh restart DIR    start it again on the same port
#   scripts/pg.sh destroy DIR    stop it if running and delete the directory
#
# The binaries come from PG_BIN, else the newest /usr/lib/postgresql/*/bin (15 on our images).
set -euo pipefail

say() { printf '[pg] %s\n' "$*" >&2; }

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    if [ -z "$dir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing PostgreSQL server binaries from Debian"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    fi
    [ -x "$dir/initdb" ] || { say "no PostgreSQL server binaries (initdb, pg_ctl) found; set PG_BIN"; exit 1; }
    echo "$dir"
}

# Runs a command as the server's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DIR PORT: starts (initdb first when DIR/data is missing); waits until ready.
start_server() {
    local dir=$1 port=$2 bin
    bin=$(pg_bin)
    if [ ! -d "$dir/data" ]; then
        as_owner "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=scram-sha-256 \
            --pwfile="$dir/password" --encoding=UTF8 --locale=C.UTF-8 --no-instructions \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    echo "$port" >"$dir/port"
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { tail -n 20 "$dir/server.log" >&2; return 1; }
}

url_of() { echo "postgres://postgres:$(cat "$1/password")@127.0.0.1:$(cat "$1/port")/postgres"; }

# The URL without its password, for messages.
shown_url_of() { echo "postgres://postgres:…@127.0.0.1:$(cat "$1/port")/postgres"; }

cmd_start() {
    local dir port attempt
    dir=$(mktemp -d /tmp/chatpass-pg.XXXXXX)
    chmod 700 "$dir"
    python3 -c 'import secrets; print(secrets.token_hex(16))' >"$dir/password"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    # The port is free when chosen; retry if someone takes it before the server binds it.
    for attempt in 1 2 3; do
        port=$(free_port)
        if start_server "$dir" "$port"; then
            echo "$dir $(url_of "$dir")"
            return
        fi
        say "start on port $port failed (attempt $attempt)"
    done
    cmd_destroy "$dir"
    exit 1
}

cmd_stop() {
    local dir=$1
    as_owner "$(pg_bin)/pg_ctl" --pgdata="$dir/data" --wait --mode=fast stop >/dev/null
}

cmd_restart() {
    local dir=$1
    start_server "$dir" "$(cat "$dir/port")"
}

cmd_destroy() {
    local dir=$1
    [ -d "$dir" ] || return 0
    as_owner "$(pg_bin)/pg_ctl" --pgdata="$dir/data" --mode=immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

RUN_DIR=""
cmd_run() {
    local started url
    # cmd_start deletes its directory itself when it fails.
    started=$(cmd_start)
    RUN_DIR=${started%% *}
    trap 'cmd_destroy "$RUN_DIR"' EXIT
    url=${started#* }
    say "PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}') at $(shown_url_of "$RUN_DIR") (data in $RUN_DIR)"
    CHATPASS_TEST_POSTGRES_URL=$url "$@"
}

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    start) cmd_start ;;
    stop) cmd_stop "${2:?usage: $0 stop DIR}" ;;
    restart) cmd_restart "${2:?usage: $0 restart DIR}" ;;
    destroy) cmd_destroy "${2:?usage: $0 destroy DIR}" ;;
    *) say "usage: $0 run CMD... | start | stop DIR | restart DIR | destroy DIR"; exit 2 ;;
esac
