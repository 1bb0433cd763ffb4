#!/usr/bin/env bash
# What each index of `tasks` costs on inserts (issue 11): pgbench inserting one task per transaction into a full copy
# of `tasks` (its rows, indexes, constraints and foreign key), then into the same copy with one index dropped, for
# each index in turn; also the copy with its two trigram indexes replaced by one two-column trigram index, the copy
# without its foreign key, a bare copy with only the foreign key, and a bare copy (no index, no constraint but NOT
# NULL). Owners are spread over 100 users. Variants alternate within each round; medians over the rounds;
# each figure against the full copy's median of the same run. What an index earns on reads: the EXPLAIN tests
# (crates/adapters-postgres/tests/explain.rs) name the requests each one serves.
#
# Needs: a release build (cargo build --release -p taskflow), pgbench and psql, PostgreSQL on localhost.
# Usage: bench/index_cost.sh    Environment: TASKS (100000: seeded with `taskflow seed --tasks`), SECS (10), ROUNDS (3),
#   CONNS (32), BENCH_BIN (target/release/taskflow), KEEP_DB=1. Takes about 3 + 0.5 x ROUNDS x SECS / 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${TASKS:-100000}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
BIN=${BENCH_BIN:-target/release/taskflow}
DB=taskflow_bench_index
LOG=/tmp/bench-index
[ -x "$BIN" ] || { echo "index_cost: $BIN missing: cargo build --release -p taskflow" >&2; exit 2; }
psql_db() { psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "$DB" "$@"; }
cleanup() { [ "${KEEP_DB:-0}" = 1 ] || psql -q -X -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "index_cost: tasks=$TASKS secs=$SECS rounds=$ROUNDS connections=$CONNS; load $(cut -d' ' -f1-3 /proc/loadavg)"
psql -q -X -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB RUST_LOG=warn
"$BIN" migrate >"$LOG-setup.log" 2>&1
"$BIN" seed --tasks "$TASKS" >>"$LOG-setup.log" 2>&1

# The variants, each a copy of tasks with its rows: name -> SQL run on the copy `v_<name>` after it is filled.
INDEXES=$(psql_db -Atc "SELECT indexname FROM pg_indexes WHERE tablename = 'tasks' AND indexname <> 'tasks_pkey' ORDER BY 1")
COLS="id, title, description, status, priority, due_date, completed_at, user_id, created_at, updated_at, version"
copy() { # name -> v_name: LIKE tasks INCLUDING ALL (indexes, checks, defaults, generated) + its foreign key + its rows
  psql_db -c "DROP TABLE IF EXISTS v_$1" \
    -c "CREATE TABLE v_$1 (LIKE tasks INCLUDING ALL)" \
    -c "ALTER TABLE v_$1 ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE" \
    -c "INSERT INTO v_$1 ($COLS) SELECT $COLS FROM tasks"
}
VARIANTS="full"
copy full
for index in $INDEXES; do
  name=${index#tasks_}; name=no_${name%_idx}
  copy "$name"
  # The copy's index of the same definition: LIKE names it after the copy, so find it by definition.
  def=$(psql_db -Atc "SELECT regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes WHERE indexname = '$index'")
  victim=$(psql_db -Atc "SELECT indexname FROM pg_indexes WHERE tablename = 'v_$name'
                         AND regexp_replace(indexdef, '^.* USING ', '') = \$\$$def\$\$")
  psql_db -c "DROP INDEX $victim"
  VARIANTS="$VARIANTS $name"
done
copy one_trgm
for victim in $(psql_db -Atc "SELECT indexname FROM pg_indexes WHERE tablename = 'v_one_trgm' AND indexdef LIKE '%gin_trgm_ops%'"); do
  psql_db -c "DROP INDEX $victim"
done
psql_db -c "CREATE INDEX ON v_one_trgm USING gin (title gin_trgm_ops, description gin_trgm_ops)"
VARIANTS="$VARIANTS one_trgm"
# Every index and check, no foreign key; and the bare table with only the foreign key.
psql_db -c "DROP TABLE IF EXISTS v_no_fk" -c "CREATE TABLE v_no_fk (LIKE tasks INCLUDING ALL)" \
  -c "INSERT INTO v_no_fk ($COLS) SELECT $COLS FROM tasks"
psql_db -c "CREATE TABLE v_bare (LIKE tasks INCLUDING DEFAULTS INCLUDING GENERATED)" -c "INSERT INTO v_bare ($COLS) SELECT $COLS FROM tasks"
psql_db -c "CREATE TABLE v_fk_only (LIKE tasks INCLUDING DEFAULTS INCLUDING GENERATED)" \
  -c "ALTER TABLE v_fk_only ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE" \
  -c "INSERT INTO v_fk_only ($COLS) SELECT $COLS FROM tasks"
VARIANTS="$VARIANTS no_fk fk_only bare"
psql_db -c "VACUUM ANALYZE"
echo "variants: $VARIANTS"

# Owners spread over 100 users (as in bench/limit.sh): the foreign key's check locks the owner's row (KEY SHARE).
psql_db -c "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
  SELECT ('00000000-0000-7000-8000-' || (300000000000 + u))::uuid, 'index-' || u || '@example.com', 'Index user ' || u,
         'user', (SELECT password_hash FROM users LIMIT 1), now(), now() FROM generate_series(0, 99) AS u"
RESULTS=$LOG-results.tsv
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  for v in $VARIANTS; do
    cat >"$LOG-$v.sql" <<EOF
\\set n1 random(0, 9223372036854775806)
\\set uid 300000000000 + random(0, 99)
INSERT INTO v_$v (id, title, description, status, priority, due_date, completed_at, user_id, created_at, updated_at, version)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 16, '0') || lpad(to_hex(:n1::bigint), 16, '0'))::uuid,
  'index bench task', 'Created by bench/index_cost.sh.', 'PENDING', 'MEDIUM', now() + interval '3 days', NULL,
  ('00000000-0000-7000-8000-' || :uid::text)::uuid, now(), now(), 1);
EOF
    tps=$(pgbench -n -M prepared -c "$CONNS" -j 2 -T "$SECS" -f "$LOG-$v.sql" "$DB" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    printf '%s\t%s\t%s\n' "$v" "$round" "$tps" >>"$RESULTS"
    echo "round $round: $v $tps inserts/s"
  done
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
by = {}
for v, _, tps in rows:
    by.setdefault(v, []).append(float(tps))
med = {v: statistics.median(x) for v, x in by.items()}
full, bare = med["full"], med["bare"]
print(f"\n| variant | inserts/s (median) | vs full copy | share of bare |")
print("| --- | ---: | ---: | ---: |")
for v, m in med.items():
    print(f"| {v} | {m:,.0f} | {m / full - 1:+.1%} | {m / bare:.0%} |")
PY
