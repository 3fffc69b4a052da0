# Dormouse. `make run` serves ./data (with a demo table) to psql on 127.0.0.1:5433; `make test` runs every test,
# the S3 suite included against a real S3-compatible server (versitygw) and
# the SQL tests against a real PostgreSQL 15 (the oracle), both of which this
# Makefile installs and starts.

GO        ?= go
TOOLS     := $(CURDIR)/.tools
export GOBIN := $(TOOLS)/bin
export PATH  := $(TOOLS)/bin:$(PATH)

VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/bin/versitygw

# PostgreSQL 15, the oracle of the SQL tests (scripts/with-pg.sh): Debian's
# postgresql-15 package.
PG_BINDIR ?= /usr/lib/postgresql/15/bin
export PG_BINDIR

.PHONY: all build run test bench bench-setup setup tools postgres pyenv flight-jdbc clean

all: build

## setup: install everything the tests need on a fresh machine.
setup: tools postgres pyenv flight-jdbc
	$(GO) mod download

## pyenv: a Python venv under .tools/venv with the independent readers the
## export tests check our files with (pyarrow, DuckDB and its httpfs
## extension, which PyPI ships as a package) and the Python ADBC Flight SQL
## driver the flight tests drive the server with, pinned.
PYVENV := $(TOOLS)/venv
PY_PACKAGES := pyarrow==26.0.1 duckdb==1.5.5 duckdb-extension-httpfs==1.5.5 \
	adbc-driver-flightsql==1.13.0 adbc-driver-manager==1.13.0
export DORMOUSE_TEST_PYTHON := $(PYVENV)/bin/python
pyenv: $(PYVENV)/.installed
$(PYVENV)/.installed: Makefile
	python3 -m venv $(PYVENV)
	$(PYVENV)/bin/pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@

tools: $(VERSITYGW)

## flight-jdbc: the Arrow Flight SQL JDBC driver (what DBeaver and other JDBC
## tools load) from Maven Central, for the flight tests (Java 17 runs it).
FLIGHT_JDBC_VERSION := 18.3.0
FLIGHT_JDBC := $(TOOLS)/jdbc/flight-sql-jdbc-driver-$(FLIGHT_JDBC_VERSION).jar
export DORMOUSE_TEST_FLIGHT_JDBC := $(FLIGHT_JDBC)
flight-jdbc: $(FLIGHT_JDBC)
$(FLIGHT_JDBC):
	mvn -q dependency:copy -Dartifact=org.apache.arrow:flight-sql-jdbc-driver:$(FLIGHT_JDBC_VERSION) -DoutputDirectory=$(TOOLS)/jdbc

## postgres: install Debian's postgresql-15 (server, psql, pgbench) and the
## PostgreSQL JDBC driver (the pgwire tests' Java client) unless they are
## there (needs root).
postgres:
	@if [ ! -x $(PG_BINDIR)/postgres ] || [ ! -x $(PG_BINDIR)/initdb ]; then \
		echo "installing postgresql-15"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15; \
	fi
	@if [ ! -f /usr/share/java/postgresql.jar ] || ! command -v javac >/dev/null; then \
		echo "installing libpostgresql-jdbc-java and a JDK"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libpostgresql-jdbc-java openjdk-17-jdk-headless; \
	fi

$(VERSITYGW):
	$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

build:
	$(GO) build -o bin/dormouse ./cmd/dormouse

## run: serve the store in ./data to PostgreSQL clients on 127.0.0.1:5433,
## with a small demo table created on first start; it prints the psql line.
run: build
	./bin/dormouse serve --store file://$(CURDIR)/data --demo 10000

## test: every test, with a versitygw S3 server started for the S3 suite and
## a PostgreSQL 15 cluster for the SQL tests' oracle (DORMOUSE_TEST_PG_URL).
test: setup
	./scripts/with-s3.sh ./scripts/with-pg.sh $(GO) test -count=1 -timeout 15m ./...

## bench-setup: fetch the benchmark module's dependencies (bench/compare has its
## own go.mod: DuckDB's Go driver and the prebuilt DuckDB library for this platform).
bench-setup: tools
	cd bench/compare && $(GO) list -deps . >/dev/null

## bench: the storage and query benchmarks, Dormouse beside DuckDB, and the
## pgwire benchmark beside PostgreSQL (pgbench; not a test; see bench/README.md). `make bench BENCH_ARGS=-quick` for a short run,
## `make bench BENCH_ARGS="-only queries"` for the queries alone.
BENCH_ARGS ?=
bench: build bench-setup
	cd bench/compare && $(GO) build -tags duckdb_arrow -o $(CURDIR)/bin/bench-compare .
	./scripts/with-s3.sh ./scripts/with-pg.sh ./bin/bench-compare -dormouse bin/dormouse -out bench/out $(BENCH_ARGS)

clean:
	rm -rf bin .tools/run
