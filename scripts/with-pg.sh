#!/usr/bin/env bash
# with-pg.sh COMMAND [ARG...]
#
# Starts a throwaway PostgreSQL 15 cluster — the oracle of the SQL tests —
# on a free port of 127.0.0.1, creates the database dormouse_oracle,
# exports the variable the tests read, runs COMMAND and exits with its
# status. The cluster and its files are removed on exit, whatever happens.
# It composes with with-s3.sh:
#
#   ./scripts/with-s3.sh ./scripts/with-pg.sh go test ./...
#
#   DORMOUSE_TEST_PG_URL  postgres://postgres@127.0.0.1:PORT/dormouse_oracle?sslmode=disable
#
# The cluster is initialised with --locale=C --encoding=UTF8: text sorts
# and compares byte-wise (code point order), as in Dormouse. Character
# classification (upper, lower, ILIKE, regex classes) uses C.UTF-8 where
# the system has it, so that upper('zoë') is 'ZOË' as in Go, not C's
# ASCII-only 'ZOë'. TimeZone=UTC, trust authentication on loopback, and no
# fsync (the cluster is thrown away). The binaries are taken from
# $PG_BINDIR, else /usr/lib/postgresql/15/bin (Debian's postgresql-15,
# which `make setup` installs). PostgreSQL refuses to run as root, so as
# root the cluster runs as the OS user postgres (created if missing).
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
if [[ ! -x $bindir/postgres || ! -x $bindir/initdb || ! -x $bindir/pg_ctl ]]; then
	echo "with-pg: PostgreSQL 15 not found in $bindir; run 'make setup' (installs Debian's postgresql-15) or set PG_BINDIR" >&2
	exit 1
fi

# as_pg CMD...: run CMD as the cluster's owner.
if [[ $(id -u) -eq 0 ]]; then
	if ! id -u postgres >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin postgres
	fi
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi

# The cluster's owner must reach the directory: a fresh one under
# $PG_TMPDIR, else /tmp (not $TMPDIR, which may sit in a private home).
run=$(mktemp -d "${PG_TMPDIR:-/tmp}/dormouse-pg.XXXXXX")
chmod 0755 "$run"
mkdir "$run/sock"
log=$run/postgres.log
touch "$log"
if [[ $(id -u) -eq 0 ]]; then
	chown postgres: "$run" "$run/sock" "$log"
fi
started=

cleanup() {
	if [[ -n $started ]]; then
		as_pg "$bindir/pg_ctl" -D "$run/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A stray PG* variable would point our own clients somewhere else.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGSSLMODE PGOPTIONS PGDATA

ctype=C
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	ctype=C.UTF-8
else
	echo "with-pg: no C.UTF-8 locale here; upper/lower/ILIKE will be ASCII-only in the oracle" >&2
fi
if ! as_pg "$bindir/initdb" -D "$run/data" -U postgres --auth=trust \
	--locale=C --lc-ctype="$ctype" --encoding=UTF8 --no-sync --no-instructions >"$run/initdb.log" 2>&1; then
	echo "with-pg: initdb failed:" >&2
	cat "$run/initdb.log" >&2
	exit 1
fi

# port_in_use PORT: something accepts connections on 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_server: start PostgreSQL on a random free port and wait (bounded)
# until it accepts connections. Returns 1 if it failed (say, the port was
# taken in the meantime), so the caller can try another port.
start_server() {
	port=$((20000 + RANDOM % 40000))
	if port_in_use "$port"; then
		return 1
	fi
	if as_pg "$bindir/pg_ctl" -D "$run/data" -l "$log" -w -t 20 \
		-o "-p $port -k $run/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC -c max_connections=50 -c dynamic_shared_memory_type=mmap" \
		start >/dev/null 2>&1; then
		started=1
		return 0
	fi
	# A failed start may still have left a postmaster behind.
	as_pg "$bindir/pg_ctl" -D "$run/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
	return 1
}

for _ in 1 2 3 4 5; do
	if start_server; then
		break
	fi
done
if [[ -z $started ]]; then
	echo "with-pg: PostgreSQL failed to start; its log:" >&2
	cat "$log" >&2
	exit 1
fi

if ! as_pg "$bindir/psql" -X -q -h "$run/sock" -p "$port" -U postgres -d postgres \
	-v ON_ERROR_STOP=1 -c 'CREATE DATABASE dormouse_oracle' >"$run/createdb.log" 2>&1; then
	echo "with-pg: create database dormouse_oracle failed:" >&2
	cat "$run/createdb.log" "$log" >&2
	exit 1
fi

export DORMOUSE_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/dormouse_oracle?sslmode=disable"
unset DORMOUSE_SKIP_PG

echo "with-pg: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at 127.0.0.1:$port, database dormouse_oracle" >&2

# Not exec: the trap must still stop the server afterwards.
status=0
"$@" || status=$?
exit "$status"
