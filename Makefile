# The verbs a user and CI need. Every target builds offline from the committed .sqlx/
# cache, except `prepare` and `check-sqlx`, which check the statements against live
# databases (a scratch SQLite file and PostgreSQL: a throwaway cluster, or the server at
# TEST_POSTGRES_URL when it is set).

CARGO ?= cargo
WITH_POSTGRES := scripts/with-postgres
WITH_STANDBY := scripts/with-standby

.PHONY: build run test test-pgbouncer soak bench prepare check-sqlx lint fmt doc

build:
	$(CARGO) build --all-targets --locked

## run: the quick start: set up the embedded SQLite database in ./data and show it working.
run:
	$(CARGO) run --quiet --locked -- init
	$(CARGO) run --quiet --locked -- demo

## test: both suites, SQLite and PostgreSQL, then the PostgreSQL behavioural tests again
## through a throwaway PgBouncer (scripts/with-pgbouncer; needs Debian's `pgbouncer`).
## Never skips PostgreSQL: starts a throwaway cluster unless TEST_POSTGRES_URL is set, and
## fails if it can do neither. The read-replica tests run against a throwaway primary and
## streaming standby (scripts/with-standby) unless TEST_POSTGRES_REPLICA_URL is set.
test:
	$(WITH_POSTGRES) $(WITH_STANDBY) scripts/run-tests

## test-pgbouncer: only the pass through PgBouncer.
test-pgbouncer:
	$(WITH_POSTGRES) scripts/run-tests --pgbouncer-only

## soak: the reliability tests at length (not part of CI): many more property cases,
## 25 SIGKILL crash runs, a longer concurrent load. See RELIABILITY.md.
soak:
	PIERRE_PROPTEST_CASES=1000 PIERRE_CRASH_RUNS=25 PIERRE_LOAD_OPS=1200 \
		$(WITH_POSTGRES) $(CARGO) test --locked --release \
		--test properties --test crash --test concurrency --test pg_restart -- --nocapture

## bench: Store<B> against raw sqlx on SQLite and PostgreSQL, release build; prints a table
## and writes target/bench/results.json. Then PostgreSQL's usage tables partitioned by month
## against unpartitioned (recorder rows/s, get_usage_stats latency, pruning a month), 1M
## rows per BENCH_SCALE (BENCH_SCALE=10: 10M), into target/bench/partitions.json.
## BENCH_SCALE=0.1 for a quick run.
bench:
	$(WITH_POSTGRES) $(CARGO) bench --locked --bench store_vs_raw
	$(WITH_POSTGRES) $(CARGO) bench --locked --bench partitions

## prepare: regenerate .sqlx/ for both backends after changing SQL or migrations.
prepare:
	$(WITH_POSTGRES) scripts/sqlx-prepare .sqlx

## check-sqlx: fail if .sqlx/ is stale for either backend (changed, added or removed
## queries, or a schema change that alters a query's types or nullability).
check-sqlx:
	rm -rf target/sqlx-check
	$(WITH_POSTGRES) scripts/sqlx-prepare target/sqlx-check
	@diff -r .sqlx target/sqlx-check >/dev/null || { \
		echo "error: .sqlx/ is stale; run 'make prepare' and commit .sqlx/. Differences:" >&2; \
		diff -r .sqlx target/sqlx-check | head -40 >&2; exit 1; }
	@echo "check-sqlx: .sqlx/ is up to date for SQLite and PostgreSQL"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --lib
