# Everyday targets. `make bench` runs the server benchmark (bench/) on SQLite,
# then on PostgreSQL at $$GATEHOUSE_TEST_POSTGRES_DSN (default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable) in a throw-away
# schema. Pass flags with BENCHFLAGS, e.g. make bench BENCHFLAGS="--duration 30s".
# `make bench-cli` measures the start-up of the client commands (bench/clistart;
# flags in CLIBENCHFLAGS, e.g. CLIBENCHFLAGS="--runs 300 --baseline OLD-BINARY").
# `make bench-replicas` runs two servers on one PostgreSQL schema and the
# Redis at 127.0.0.1:6379/0, under a key prefix of the run's own (its keys
# are deleted at the end; nothing else is touched).
# `make bench-gateway` measures `gatehouse proxy` in front of the test app
# (added latency and throughput against direct requests; flags in
# BENCHFLAGS, e.g. BENCHFLAGS="--duration 10s --concurrency 64").
# `make bench-dpop` measures what a DPoP proof costs client_credentials: six
# runs of cc and cc-dpop, the order of the two alternated (the second
# workload of a run comes out faster); compare the medians (BENCHMARKS.md).
# `make test-all` runs the tests with a disposable PostgreSQL and Redis of
# their own (.ci/test-all; go test flags in TESTFLAGS, e.g. TESTFLAGS=-race).

GO ?= go
BENCHFLAGS ?=
CLIBENCHFLAGS ?=
TESTFLAGS ?=

.PHONY: build test test-all bench bench-sqlite bench-postgres bench-replicas bench-cli bench-gateway bench-soak bench-ldap bench-dpop

build:
	CGO_ENABLED=0 $(GO) build -o bin/gatehouse ./cmd/gatehouse

test:
	$(GO) test ./...

test-all:
	.ci/test-all $(TESTFLAGS)

bench: bench-sqlite bench-postgres

bench-sqlite:
	$(GO) run ./bench $(BENCHFLAGS)

bench-postgres:
	$(GO) run ./bench --postgres $(BENCHFLAGS)

bench-replicas:
	$(GO) run ./bench --postgres --replicas 2 $(BENCHFLAGS)

# A soak: 30 minutes of client credentials on SQLite with audit.retention
# 10m, sampling the database and WAL size every minute; the report judges
# whether the size stays flat once the retention has filled the table.
bench-soak:
	$(GO) run ./bench --workloads cc --duration 30m --concurrency 8 --audit-retention 10m $(BENCHFLAGS)

bench-gateway:
	$(GO) run ./bench --gateway $(BENCHFLAGS)

# LDAP sign-ins through the LDAP connector against a slapd on 127.0.0.1
# (needs Debian's slapd).
bench-ldap:
	$(GO) run ./bench --ldap $(BENCHFLAGS)

bench-dpop:
	CGO_ENABLED=0 $(GO) build -o bin/gatehouse ./cmd/gatehouse
	$(GO) build -o bin/bench ./bench
	for order in cc,cc-dpop cc-dpop,cc cc,cc-dpop cc-dpop,cc cc,cc-dpop cc-dpop,cc; do \
		echo "== $$order"; bin/bench --binary bin/gatehouse --workloads $$order --duration 8s $(BENCHFLAGS) || exit 1; \
	done

bench-cli:
	$(GO) run ./bench/clistart $(CLIBENCHFLAGS)
