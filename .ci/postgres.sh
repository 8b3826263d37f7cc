# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): a
# private PostgreSQL cluster on loopback for the PostgreSQL store's tests,
# and REGIE_TEST_POSTGRES pointing at it.
#
# Idempotent: the OS package is installed only when missing, the cluster is
# made once (under /tmp, owned by user `postgres`: the server refuses to run
# as root) and started only when it is not already answering.
#
# The cluster is for tests only: trust authentication, loopback only, no
# fsync (a test database need not survive a power cut; that keeps CI fast).

REGIE_PG_PORT="${REGIE_PG_PORT:-54329}"
REGIE_PG_DIR="${REGIE_PG_DIR:-/tmp/regie-ci-postgres}"

regie_pg_bin() {
    # The newest installed major version's binaries.
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(regie_pg_bin)" ] || [ ! -x "$(regie_pg_bin)/initdb" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi
REGIE_PG_BIN="$(regie_pg_bin)"

regie_as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if ! "$REGIE_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$REGIE_PG_PORT"; then
    if [ ! -f "$REGIE_PG_DIR/data/PG_VERSION" ]; then
        rm -rf "$REGIE_PG_DIR"
        mkdir -p "$REGIE_PG_DIR"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$REGIE_PG_DIR"
        regie_as_postgres "$REGIE_PG_BIN/initdb" -D "$REGIE_PG_DIR/data" -U postgres \
            --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$REGIE_PG_DIR/initdb.log"
    fi
    regie_as_postgres "$REGIE_PG_BIN/pg_ctl" -D "$REGIE_PG_DIR/data" -l "$REGIE_PG_DIR/server.log" \
        -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $REGIE_PG_PORT \
        -c unix_socket_directories=$REGIE_PG_DIR -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" start >/dev/null
fi

export REGIE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$REGIE_PG_PORT/postgres"
echo "PostgreSQL for the tests: $REGIE_TEST_POSTGRES ($("$REGIE_PG_BIN/postgres" --version))"
