# The verbs a user and CI need. Every target builds offline from the committed .sqlx/
# cache, except `prepare` and `check-sqlx`, which check the statements against live
# databases: a scratch SQLite file, PostgreSQL (a throwaway cluster, or the server at
# TEST_POSTGRES_URL when it is set) and MariaDB (a throwaway server, or the one at
# TEST_MYSQL_URL when it is set).

CARGO ?= cargo
WITH_POSTGRES := scripts/with-postgres
WITH_STANDBY := scripts/with-standby
WITH_MARIADB := scripts/with-mariadb

.PHONY: build run test test-pgbouncer soak bench prepare check-sqlx lint fmt doc

build:
	$(CARGO) build --all-targets --locked

## run: the quick start: set up the embedded SQLite database in ./data and show it working.
run:
	$(CARGO) run --quiet --locked -- init
	$(CARGO) run --quiet --locked -- demo

## test: the suites on all three backends, SQLite, PostgreSQL and MySQL (MariaDB), then the
## PostgreSQL behavioural tests again through a throwaway PgBouncer (scripts/with-pgbouncer;
## needs Debian's `pgbouncer`). Never skips a server backend: starts a throwaway PostgreSQL
## cluster unless TEST_POSTGRES_URL is set and a throwaway MariaDB (scripts/with-mariadb;
## needs Debian's `mariadb-server`) unless TEST_MYSQL_URL is set, and fails if it can do
## neither. The read-replica tests run against a throwaway primary and streaming standby
## (scripts/with-standby) unless TEST_POSTGRES_REPLICA_URL is set.
test:
	$(WITH_POSTGRES) $(WITH_STANDBY) $(WITH_MARIADB) scripts/run-tests

## test-pgbouncer: only the pass through PgBouncer.
test-pgbouncer:
	$(WITH_POSTGRES) scripts/run-tests --pgbouncer-only

## soak: the reliability tests at length (not part of CI): many more property cases,
## 25 SIGKILL crash runs, a longer concurrent load. See RELIABILITY.md.
soak:
	PIERRE_PROPTEST_CASES=1000 PIERRE_CRASH_RUNS=25 PIERRE_LOAD_OPS=1200 \
		$(WITH_POSTGRES) $(WITH_MARIADB) $(CARGO) test --locked --release \
		--test properties --test crash --test concurrency --test server_restart -- --nocapture

## bench: Store<B> against raw sqlx on SQLite, PostgreSQL and MySQL (a throwaway MariaDB
## unless TEST_MYSQL_URL is set; over its Unix socket), release build; prints a table and
## writes target/bench/results.json. Then the MySQL backend's choices measured
## (benches/mysql_choices.rs: TCP against the Unix socket, CHAR(36) against BINARY(16) ids)
## into target/bench/mysql_choices.json; then PostgreSQL's usage tables partitioned by month
## against unpartitioned (recorder rows/s, get_usage_stats latency, pruning a month), 1M
## rows per BENCH_SCALE (BENCH_SCALE=10: 10M), into target/bench/partitions.json.
## BENCH_SCALE=0.1 for a quick run.
bench:
	$(WITH_POSTGRES) $(WITH_MARIADB) $(CARGO) bench --locked --bench store_vs_raw
	$(WITH_MARIADB) $(CARGO) bench --locked --bench mysql_choices
	$(WITH_POSTGRES) $(CARGO) bench --locked --bench partitions

## prepare: regenerate .sqlx/ for the three backends after changing SQL or migrations.
prepare:
	$(WITH_POSTGRES) $(WITH_MARIADB) scripts/sqlx-prepare .sqlx

## check-sqlx: fail if .sqlx/ is stale for any backend (changed, added or removed queries,
## or a schema change that alters a query's types or nullability).
check-sqlx:
	rm -rf target/sqlx-check
	$(WITH_POSTGRES) $(WITH_MARIADB) scripts/sqlx-prepare target/sqlx-check
	@diff -r .sqlx target/sqlx-check >/dev/null || { \
		echo "error: .sqlx/ is stale; run 'make prepare' and commit .sqlx/. Differences:" >&2; \
		diff -r .sqlx target/sqlx-check | head -40 >&2; exit 1; }
	@echo "check-sqlx: .sqlx/ is up to date for SQLite, PostgreSQL and MySQL"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --lib
