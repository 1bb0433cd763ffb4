#!/usr/bin/env bash
# Side by side with the limit (issue 11): for each benchmarked request, the statements TaskFlow sends are captured from
# PostgreSQL's own log and run by pgbench on the same database (the limit: the database alone, doing exactly TaskFlow's
# SQL), then wrk sends the request to TaskFlow; limit and TaskFlow alternate, ROUNDS times, medians -> ratio. Also:
#   - the round trips per request (logged statements with BEGIN/COMMIT, plus the pool's check per transaction),
#     printed with the statements, so that a change that adds one is seen without a load test;
#   - the same load on a TaskFlow instance with Redis on (read cache, rate limiter), against the same limit;
#   - wrk's p50/p99 and each instance's peak resident memory (VmHWM);
#   - the insert limit of TaskFlow's tasks table (its indexes and constraints) against a bare table with the same
#     columns, by pgbench with one INSERT per transaction into each.
# Then (SCALE=1) the list latency at 100,000 tasks and at 1,000,000, one connection, for the goal "within 1.5x".
# Requests: GET /tasks/:id; GET /tasks?status=PENDING&page=1&limit=20 (offset page, with its total);
# GET /tasks?status=PENDING&limit=20&cursor= (keyset); POST /tasks; POST /tasks/batch (100 ids, already complete,
# action complete). Data: a fresh database taskflow_bench_limit, migrated by `taskflow migrate`, 100 users x 1,000
# tasks, ANALYZEd; every transaction of pgbench and every request of wrk picks its user/task at random (bench/
# limit_tools.py documents the ids). One table at the end, with the goals of the issue; the ratios are what to keep.
# Logs: /tmp/bench-limit-*.
#
# Needs: a release build (cargo build --release -p taskflow), wrk (apt-get install wrk), pgbench and psql (PostgreSQL
# client), read access to the server's log (PGLOG), PostgreSQL on localhost (superuser postgres, trust), Redis for the
# Redis column. Nothing server-wide is changed: log_statement = 'all' is set on the bench database for the capture
# (new connections only) and reset after it.
# Usage: bench/limit.sh    Environment: SECS (15: each pgbench or wrk run), ROUNDS (3), CONNS (32), REQUESTS
#   ("get offset keyset create batch"), REDIS (1; 0 leaves the Redis column out), INSERT (1; 0 leaves the insert limit
#   out), SCALE (1; 0 leaves out the list latency at 100,000 and 1,000,000 tasks: one connection, before and after
#   900,000 more tasks are added), WARMUP_SECS (2: wrk on each fresh instance first, not counted), PORT (3221, and +1 for the Redis instance),
#   PGLOG (/var/log/postgresql/postgresql-15-main.log), KEEP_DB=1 (leave the database for a look afterwards).
# Time: defaults about 16 minutes (step 5 about 2); quick mode ROUNDS=1 SECS=10 about 6 minutes (see docs/performance.md).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/
cd "$(dirname "$0")/.."

SECS=${SECS:-15}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
REQUESTS=${REQUESTS:-get offset keyset create batch}
REDIS=${REDIS:-1}
INSERT=${INSERT:-1}
SCALE=${SCALE:-1}
WARMUP=${WARMUP_SECS:-2}
P1=${PORT:-3221}
P2=$((P1 + 1))
PGLOG=${PGLOG:-/var/log/postgresql/postgresql-15-main.log}
BIN=${BENCH_BIN:-target/release/taskflow}
DB=taskflow_bench_limit
PG=postgres://postgres@127.0.0.1:5432
LOG=/tmp/bench-limit
TOOLS="python3 bench/limit_tools.py"
PREFIX="bench-limit-$$"
[ -x "$BIN" ] || { echo "limit: $BIN missing: cargo build --release -p taskflow" >&2; exit 2; }
for tool in wrk pgbench psql curl python3; do command -v "$tool" >/dev/null || { echo "limit: $tool not found" >&2; exit 2; }; done
[ -r "$PGLOG" ] || { echo "limit: cannot read PostgreSQL's log $PGLOG (PGLOG=...)" >&2; exit 2; }
[ "$REDIS" = 0 ] || command -v redis-cli >/dev/null || { echo "limit: redis-cli not found (REDIS=0 to skip)" >&2; exit 2; }

export TOKEN_KEY=$(printf '7%.0s' {1..64}) RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_AUTH_PER_MINUTE=100000 \
  ACCESS_TOKEN_TTL_SECS=7200 RUST_LOG=warn DATABASE_URL=$PG/$DB WORKER=false
unset REDIS_URL
export PGHOST=127.0.0.1 PGUSER=postgres  # pgbench
STARTED=$(date +%s)

PIDS=()
psql_db() { psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "$DB" "$@"; }
reset_logging() { psql -q -X -h 127.0.0.1 -U postgres -c "ALTER DATABASE $DB RESET log_statement" 2>/dev/null || true; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  reset_logging
  [ "$REDIS" = 0 ] || redis-cli --scan --pattern "$PREFIX*" | xargs -r redis-cli del >/dev/null 2>&1 || true
  if [ "${KEEP_DB:-}" != 1 ]; then
    sleep 0.5
    psql -q -X -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  fi
}
trap cleanup EXIT
until_ok() { # seconds command...
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "limit: timed out waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}
SERVER=""
start() { # port [redis] -> SERVER=pid: a fresh `taskflow serve` (PostgreSQL only, or with Redis)
  local port=$1 redis=${2:-}
  if [ -n "$redis" ]; then
    PORT=$port REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=$PREFIX "$BIN" serve >>"$LOG-serve-$port.log" 2>&1 &
  else
    PORT=$port "$BIN" serve >>"$LOG-serve-$port.log" 2>&1 &
  fi
  SERVER=$!
  PIDS+=("$SERVER")
  until_ok 60 curl -sf "localhost:$port/health/ready"
}
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; } # KiB
cache_counts() { # port -> "hits misses" of the read cache so far (GET /metrics)
  curl -sf "localhost:$1/metrics" | awk '/^cache_hits_total/ {h += $NF} /^cache_misses_total/ {m += $NF} END {print h + 0, m + 0}'
}

echo "limit: secs=$SECS rounds=$ROUNDS connections=$CONNS requests=[$REQUESTS] redis=$REDIS insert=$INSERT;" \
  "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load $(cut -d' ' -f1-3 /proc/loadavg)"

insert_tasks() { # first last: tasks g = first..last (ids, owners and values computable: see bench/limit_tools.py)
  psql_db <<SQL
INSERT INTO tasks (id, title, description, status, priority, due_date, completed_at, user_id, created_at, updated_at,
                   version)
SELECT ('00000000-0000-7000-8000-' || (100000000000 + g))::uuid, s.title, s.description, s.status, s.priority,
       s.due_date, CASE WHEN s.status = 'COMPLETED' THEN s.created_at END,
       ('00000000-0000-7000-8000-' || (200000000000 + g % 100))::uuid, s.created_at, s.created_at, 1
FROM (
    SELECT g, 'Demo task #' || g || ' ' || (ARRAY['report', 'invoice', 'meeting', 'review', 'deploy', 'backup', 'email',
               'design', 'budget', 'hiring'])[1 + g % 10] AS title,
           CASE WHEN g % 4 = 0 THEN NULL
                ELSE 'Seeded demo task: ' || (ARRAY['call the client', 'write the quarterly report', 'fix the login bug',
                    'plan the offsite', 'review pull requests', 'update the roadmap', 'pay the invoices'])[1 + g % 7]
           END AS description,
           (ARRAY['PENDING', 'IN_PROGRESS', 'COMPLETED'])[1 + g % 3] AS status,
           (ARRAY['LOW', 'MEDIUM', 'HIGH'])[1 + (g / 3) % 3] AS priority,
           CASE WHEN g % 5 = 0 THEN NULL ELSE now() + ((g % 61) - 30) * interval '1 day' END AS due_date,
           now() - g * interval '1 second' AS created_at
    FROM generate_series($1, $2) AS g
) AS s;
SQL
}

# --- 1. data ------------------------------------------------------------------------------------------------------
psql -q -X -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"$BIN" migrate >"$LOG-migrate.log" 2>&1
"$BIN" seed >>"$LOG-migrate.log" 2>&1  # the demo users only: user@example.com lends its password hash (user123)
T0=$(date +%s.%N)
psql_db <<'SQL'
-- Ids that pgbench and wrk can compute: see bench/limit_tools.py. Titles, descriptions, statuses, priorities and due
-- dates as `taskflow seed` makes them (crates/adapters-postgres/src/seed.rs); user u owns the tasks g = u mod 100.
INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
SELECT ('00000000-0000-7000-8000-' || (200000000000 + u))::uuid, 'bench-' || u || '@example.com', 'Bench user ' || u,
       'user', (SELECT password_hash FROM users WHERE email = 'user@example.com'),
       now() - interval '1 day' + u * interval '1 second', now() - interval '1 day' + u * interval '1 second'
FROM generate_series(0, 99) AS u;
-- The insert limit's bare table: the same columns (the generated one included), no index, no constraint but NOT NULL.
CREATE TABLE bench_bare_tasks (LIKE tasks INCLUDING DEFAULTS INCLUDING GENERATED);
SQL
insert_tasks 1 100000
psql_db -c "VACUUM ANALYZE"
echo "1. $DB: $(psql_db -Atc "SELECT count(*) FROM users WHERE email LIKE 'bench-%'") users," \
  "$(psql_db -Atc "SELECT count(*) FROM tasks") tasks ($(psql_db -Atc "SELECT count(*) FROM tasks WHERE status = 'PENDING'
  AND user_id = '00000000-0000-7000-8000-200000000007'") PENDING of user 7), seeded and ANALYZEd in" \
  "$(python3 -c "import time; print(f'{time.time() - $T0:.1f}')") s"

# --- 2. capture ---------------------------------------------------------------------------------------------------
# The instance starts after the ALTER, so each of its connections logs every statement with its parameters.
psql -q -X -h 127.0.0.1 -U postgres -c "ALTER DATABASE $DB SET log_statement = 'all'"
start "$P1"; CAPTURER=$SERVER
$TOOLS login --port "$P1" --users 100 --password user123 --out "$LOG-tokens.txt"
{ echo "return {"; sed 's/.*/  "&",/' "$LOG-tokens.txt"; echo "}"; } >"$LOG-tokens.lua"
U=7; G=$((U + 100 * 5)); TOKEN=$(sed -n "$((U + 1))p" "$LOG-tokens.txt")
CAPTURES=$LOG-captures
rm -rf "$CAPTURES"; mkdir -p "$CAPTURES"
capture() { # name method path [body]
  $TOOLS capture --log "$PGLOG" --db "$DB" --port "$P1" --token "$TOKEN" --name "$1" --method "$2" --path "$3" \
    ${4:+--body "$4"} --out "$CAPTURES/$1.json"
}
BATCH_BODY=$($TOOLS ids --u "$U" --s 0)
for req in $REQUESTS; do
  case $req in
    get) capture get GET "/tasks/00000000-0000-7000-8000-$((100000000000 + G))" ;;
    offset) capture offset GET "/tasks?status=PENDING&page=1&limit=20" ;;
    keyset) capture keyset GET "/tasks?status=PENDING&limit=20&cursor=" ;;
    create) capture create POST /tasks '{"title":"limit bench task","description":"Created by bench/limit.sh.","priority":"MEDIUM"}' ;;
    batch) capture batch POST /tasks/batch "$BATCH_BODY" ;;
    *) echo "limit: unknown request $req" >&2; exit 2 ;;
  esac
done
stop "$CAPTURER"
reset_logging
echo "2. statements TaskFlow sends (PostgreSQL's log, log_statement = 'all' on $DB; the fewest of 3 samples):"
$TOOLS show $(for req in $REQUESTS; do echo "$CAPTURES/$req.json"; done) | tee "$LOG-statements.txt"
for req in $REQUESTS; do
  case $req in get) kind=get ;; offset | keyset) kind=list ;; *) kind=$req ;; esac
  rm -f "$LOG-$req-nonotify.sql"
  $TOOLS script --capture "$CAPTURES/$req.json" --kind "$kind" --u "$U" --g "$G" --s 0 --out "$LOG-$req.sql" \
    --nonotify-out "$LOG-$req-nonotify.sql" >/dev/null
  # One transaction first: a script PostgreSQL refuses must stop the run here, not after minutes of load.
  for script in "$LOG-$req.sql" "$LOG-$req-nonotify.sql"; do
    [ -f "$script" ] || continue
    pgbench -n -M prepared -t 1 -f "$script" "$DB" >"$LOG-check-$req.log" 2>&1 \
      || { echo "limit: the pgbench script $script fails:" >&2; tail -5 "$LOG-check-$req.log" >&2; exit 1; }
  done
done
echo "   pgbench scripts: $LOG-<request>.sql ($LOG-<request>-nonotify.sql: the same without pg_notify, where there is one)"

# --- 3. load ------------------------------------------------------------------------------------------------------
# wrk scripts: every request as a random user (its own token), on a random task of theirs where there is one.
lua_head() {
  cat <<EOF
local tokens = dofile("$LOG-tokens.lua")
math.randomseed(os.time() * 1000 + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000)
local prefix = "00000000-0000-7000-8000-"
local function auth(u) return { ["Authorization"] = "Bearer " .. tokens[u + 1], ["Content-Type"] = "application/json" } end
EOF
}
lua() { # request -> wrk script
  lua_head
  case $1 in
    get) echo 'request = function() local g = math.random(1, 100000)
  return wrk.format("GET", "/tasks/" .. prefix .. (100000000000 + g), auth(g % 100)) end' ;;
    offset) echo 'request = function()
  return wrk.format("GET", "/tasks?status=PENDING&page=1&limit=20", auth(math.random(0, 99))) end' ;;
    keyset) echo 'request = function()
  return wrk.format("GET", "/tasks?status=PENDING&limit=20&cursor=", auth(math.random(0, 99))) end' ;;
    create) echo 'local body = [[{"title":"limit bench task","description":"Created by bench/limit.sh.","priority":"MEDIUM"}]]
request = function() return wrk.format("POST", "/tasks", auth(math.random(0, 99)), body) end' ;;
    batch) echo 'request = function()
  local u, s = math.random(0, 99), math.random(0, 233)
  local k0 = (2 - u % 3) % 3
  local ids = {}
  for j = s, s + 99 do ids[#ids + 1] = "\"" .. prefix .. (100000000000 + u + 100 * (k0 + 3 * j)) .. "\"" end
  return wrk.format("POST", "/tasks/batch", auth(u), "{\"action\":\"complete\",\"tasks\":[" .. table.concat(ids, ",") .. "]}")
end' ;;
  esac
}
RESULTS=$LOG-results.tsv
: >"$RESULTS"
run_pgbench() { # script -> tps (PostgreSQL is shared: a run refused for want of connections is tried again)
  local out attempt
  for attempt in 1 2 3 4; do
    out=$(pgbench -n -M prepared -c "$CONNS" -j 2 -T "$SECS" -f "$1" "$DB" 2>&1) && break
    if [ "$attempt" -lt 4 ] && echo "$out" | grep -q "too many clients"; then
      echo "limit: PostgreSQL has no $CONNS connections free; pgbench again in 10 s" >&2; sleep 10; continue
    fi
    echo "limit: pgbench $1 failed:" >&2; echo "$out" | tail -5 >&2; return 1
  done
  echo "$out" >>"$LOG-pgbench.log"
  echo "$out" | awk '/^tps = / {printf "%.0f\n", $3}'
}
run_wrk() { # port script -> "rps p50=.. p99=.. non2xx=.." (req/s counts 2xx answers only)
  wrk -t"${WRK_THREADS:-2}" -c"$CONNS" -d"${SECS}s" --latency -s "$2" "http://127.0.0.1:$1" | tee -a "$LOG-wrk.log" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000; return v * 1000 }
    /requests in/ {n = $1} /Non-2xx/ {bad = $NF} /Requests\/sec/ {rps = $2}
    /^ +50%/ {p50 = ms($2)} /^ +99%/ {p99 = ms($2)}
    END {printf "%.0f\tp50=%.2f\tp99=%.2f\tnon2xx=%d\n", (n > 0 ? rps * (n - bad) / n : 0), p50, p99, bad}'
}
echo "3. load: pgbench (the limit) and wrk (TaskFlow$( [ "$REDIS" = 0 ] || echo ', TaskFlow + Redis')), $CONNS connections," \
  "${SECS}s each, $ROUNDS round(s)"
# Each wrk run gets a fresh instance, stopped before the next run: no idle pool holds PostgreSQL connections while
# pgbench needs 32 (the server is shared), and each run's peak memory (VmHWM) is its own.
# The three runs of a round (limit, TaskFlow, TaskFlow + Redis) take turns going first: round 1 in that order, round 2
# starting with TaskFlow, round 3 with TaskFlow + Redis, and so on, so that a drift of the machine during a round
# (the later runs of a round were often the slower) does not always fall on the same column.
measure_limit() { # req round
  lim=$(run_pgbench "$LOG-$1.sql")
  printf '%s\tlimit\t%s\t%s\n' "$1" "$2" "$lim" >>"$RESULTS"
  if [ -f "$LOG-$1-nonotify.sql" ]; then
    lim_nn=$(run_pgbench "$LOG-$1-nonotify.sql")
    printf '%s\tnonotify\t%s\t%s\n' "$1" "$2" "$lim_nn" >>"$RESULTS"
    lim="$lim (without pg_notify: $lim_nn)"
  fi
}
measure_taskflow() { # req round
  start "$P1"
  wrk -t2 -c"$CONNS" -d"${WARMUP}s" -s "$LOG-$1.lua" "http://127.0.0.1:$P1" >/dev/null
  tf=$(run_wrk "$P1" "$LOG-$1.lua")
  printf '%s\ttaskflow\t%s\t%s\thwm_kib=%s\n' "$1" "$2" "$tf" "$(hwm "$SERVER")" >>"$RESULTS"
  stop "$SERVER"
}
measure_redis() { # req round
  start "$P2" redis
  wrk -t2 -c"$CONNS" -d"${WARMUP}s" -s "$LOG-$1.lua" "http://127.0.0.1:$P2" >/dev/null
  read -r h0 m0 <<<"$(cache_counts "$P2")"
  tr=$(run_wrk "$P2" "$LOG-$1.lua")
  read -r h1 m1 <<<"$(cache_counts "$P2")"
  hit=$(python3 -c "h, m = $h1 - $h0, $m1 - $m0; print(f'{h / (h + m):.3f}' if h + m else '-')")
  printf '%s\tredis\t%s\t%s\thwm_kib=%s\thit_rate=%s\n' "$1" "$2" "$tr" "$(hwm "$SERVER")" "$hit" >>"$RESULTS"
  stop "$SERVER"
}
runs=(limit taskflow)
[ "$REDIS" = 0 ] || runs+=(redis)
for req in $REQUESTS; do
  lua "$req" >"$LOG-$req.lua"
  for round in $(seq "$ROUNDS"); do
    turn=$(( (round - 1) % ${#runs[@]} ))
    order=("${runs[@]:turn}" "${runs[@]:0:turn}")
    for run in "${order[@]}"; do "measure_$run" "$req" "$round"; done
    line="   $req round $round (${order[*]}): limit $lim/s, TaskFlow ${tf%%$'\t'*}/s"
    [ "$REDIS" = 0 ] || line+=", TaskFlow + Redis ${tr%%$'\t'*}/s (cache hits $hit)"
    echo "$line"
  done
done

# --- 4. the insert limit of the schema ----------------------------------------------------------------------------
INSERTS=$LOG-insert.tsv
: >"$INSERTS"
if [ "$INSERT" != 0 ]; then
  for table in tasks bench_bare_tasks; do
    cat >"$LOG-insert-$table.sql" <<EOF
\\set u random(0, 99)
\\set uid 200000000000 + :u
\\set n1 random(0, 9223372036854775806)
INSERT INTO $table (id, title, description, status, priority, due_date, completed_at, user_id, created_at, updated_at, version)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 16, '0') || lpad(to_hex(:n1::bigint), 16, '0'))::uuid,
  'limit bench task', 'Created by bench/limit.sh.', 'PENDING', 'MEDIUM', NULL, NULL,
  ('00000000-0000-7000-8000-' || :uid::text)::uuid, now(), now(), 1);
EOF
  done
  for round in $(seq "$ROUNDS"); do
    s=$(run_pgbench "$LOG-insert-tasks.sql"); b=$(run_pgbench "$LOG-insert-bench_bare_tasks.sql")
    printf 'schema\t%s\t%s\nbare\t%s\t%s\n' "$round" "$s" "$round" "$b" >>"$INSERTS"
    echo "4. insert limit round $round: tasks $s/s, bare table $b/s"
  done
fi

# --- 5. list latency at 100,000 and at 1,000,000 tasks (one connection) -----------------------------------------
SCALES=$LOG-scale.tsv
: >"$SCALES"
if [ "$SCALE" != 0 ]; then
  scale_runs() { # tasks-label: offset and keyset pages, each as a random one of the 100 users, one connection
    local req out
    start "$P1"
    for req in offset keyset; do
      lua "$req" >"$LOG-scale-$req.lua"
      wrk -t1 -c1 -d"${WARMUP}s" -s "$LOG-scale-$req.lua" "http://127.0.0.1:$P1" >/dev/null
      out=$(CONNS=1 WRK_THREADS=1 run_wrk "$P1" "$LOG-scale-$req.lua")
      printf '%s	%s	%s
' "$1" "$req" "$out" >>"$SCALES"
      echo "5. $1 tasks, $req page, one connection: $(echo "$out" | tr '\t' ' ')"
    done
    stop "$SERVER"
  }
  # The load above inserted tasks (the create runs) that no VACUUM has seen: an index-only count would visit their
  # heap pages. Both sizes are measured vacuumed and analysed, so that only the size differs.
  psql_db -c "VACUUM ANALYZE"
  scale_runs 100000
  T0=$(date +%s)
  insert_tasks 100001 1000000
  psql_db -c "VACUUM ANALYZE"
  echo "5. 900,000 tasks added and ANALYZEd in $(($(date +%s) - T0)) s"
  scale_runs 1000000
fi

# --- the table ----------------------------------------------------------------------------------------------------
$TOOLS table --results "$RESULTS" --captures "$CAPTURES" --insert "$INSERTS" --secs "$SECS" --rounds "$ROUNDS"
if [ -s "$SCALES" ]; then
  python3 - "$SCALES" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    tasks, req, rps, p50, p99, _ = line.rstrip("\n").split("\t")
    rows[(tasks, req)] = (float(rps), float(p50.split("=")[1]), float(p99.split("=")[1]))
for req in ("offset", "keyset"):
    a, b = rows.get(("100000", req)), rows.get(("1000000", req))
    if a and b:
        ratio = b[1] / a[1] if a[1] else float("inf")
        print(f"list latency, {req} page, one connection: p50 {a[1]:.2f} ms at 100,000 tasks, {b[1]:.2f} ms at 1,000,000:"
              f" x{ratio:.2f} (goal <= x1.5: {'met' if ratio <= 1.5 else 'NO'}); p99 {a[2]:.2f} -> {b[2]:.2f} ms")
PY
fi
echo "took $(( $(date +%s) - STARTED )) s; load now $(cut -d' ' -f1 /proc/loadavg)"
