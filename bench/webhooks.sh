#!/usr/bin/env bash
# Webhook delivery on PostgreSQL, against a fast local receiver, in one run on one machine (issue 9, "Performance"):
#   a. bare limit: wrk POSTs one real delivery body (with TaskFlow's headers) to the receiver: requests/s;
#   b. saturation: E task.created events wait in the outbox (the API runs with WORKER=false), then one
#      `taskflow worker` starts: deliveries/s until the receiver has E, and its ratio to the bare limit;
#   c. latency at a steady 100 events/s (the worker from b running): commit (occurredAt) -> arrival, p50/p99;
#   d. cost on POST /tasks of three webhooks: wrk POST /tasks by a user with no webhook (A) and by a user with three
#      (B, subscribed to task.created, the worker delivering meanwhile), alternating A B A B, the backlog drained
#      between rounds; medians -> ratio.
# One table at the end with the goals of the issue next to the figures; the ratios are what to keep (absolute numbers
# depend on the machine and on what else runs on it). The receiver is bench/webhook_receiver.py (stdlib asyncio,
# SO_REUSEPORT workers), the paced load generator bench/webhook_load.py. Logs: /tmp/bench-webhooks-*.log.
#
# Needs: a release build (cargo build --release -p taskflow), wrk (apt-get install wrk), PostgreSQL on localhost.
# Usage: bench/webhooks.sh [events=20000] [seconds=10] [connections=32]
#   seconds and connections are wrk's, for a and d. Environment: RECEIVER_WORKERS (2), LATENCY_SECS (20),
#   LATENCY_RATE (100), ROUNDS (2: A B pairs in d), PORT (3201), RECEIVER_PORT (3190, and +1 for its stats),
#   SATURATION_MAX_SECS and DRAIN_MAX_SECS (how long b and each drain of d may take; default 120 s + 50/s of work:
#   past that, the figures are computed from what arrived and marked INCOMPLETE / NOT DRAINED),
#   BARE_ONLY=1 (stop after a: the receiver alone, no build needed but the binary's presence), BENCH_DB (the database,
#   dropped and created again: taskflow_bench_webhooks), BENCH_BIN (the binary: target/release/taskflow).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/
cd "$(dirname "$0")/.."

EVENTS=${1:-20000}
SECS=${2:-10}
CONNS=${3:-32}
RECEIVER_WORKERS=${RECEIVER_WORKERS:-2}
LATENCY_SECS=${LATENCY_SECS:-20}
LATENCY_RATE=${LATENCY_RATE:-100}
ROUNDS=${ROUNDS:-2}
PER_RECEIVER=${WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER:-8}  # the worker's default
API=${PORT:-3201}
RECV=${RECEIVER_PORT:-3190}
STATS=$((RECV + 1))
BIN=${BENCH_BIN:-target/release/taskflow}
DB=${BENCH_DB:-taskflow_bench_webhooks}
PG=postgres://postgres@127.0.0.1:5432
LOG=/tmp/bench-webhooks
[ -x "$BIN" ] || { echo "webhooks: $BIN missing: cargo build --release -p taskflow" >&2; exit 2; }
for tool in wrk psql curl python3; do command -v "$tool" >/dev/null || { echo "webhooks: $tool not found" >&2; exit 2; }; done

export TOKEN_KEY=$(printf '5%.0s' {1..64}) RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_AUTH_PER_MINUTE=100000 \
  ACCESS_TOKEN_TTL_SECS=7200 WEBHOOK_ALLOW_PRIVATE=true RUST_LOG=warn DATABASE_URL=$PG/$DB
unset REDIS_URL

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

py() { python3 -c "$@"; }
field() { py "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; } # field '["a"]["b"]' <json
stats() { curl -sf "localhost:$STATS/stats${1:+?since=$1}"; }
reset() { curl -sf -X POST "localhost:$STATS/reset" >/dev/null; }
until_ok() { # seconds command... : retry the command every 0.1 s until it succeeds, or fail after the deadline
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "webhooks: timed out waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}
received_at_least() { [ "$(stats | field '["count"]')" -ge "$1" ]; }
timed_at_least() { [ "$(stats "$2" | field '["latency_ms"]["n"]')" -ge "$1" ]; } # n since
wait_received() { # count deadline-seconds: poll the receiver until it has `count` requests; 1 if it did not
  until_ok "$2" received_at_least "$1" 2>/dev/null || {
    echo "webhooks: after $2 s the receiver has $(stats | field '["count"]') of $1; going on with what arrived" >&2
    return 1
  }
}
cpu_ticks() { # pids... -> user+system clock ticks so far, summed (children of the receiver included via its pids)
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
pg_backends() { psql -h 127.0.0.1 -U postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'" | tr '\n' ' '; }
pg_counters() { # one line: commits, rows fetched, inserted, updated, deleted in the bench database
  psql -h 127.0.0.1 -U postgres -Atc "SELECT xact_commit, tup_fetched, tup_inserted, tup_updated, tup_deleted
    FROM pg_stat_database WHERE datname = '$DB'" | tr '|' ' '
}
pg_tables() { # "table ins upd del" lines of the bench database
  psql -h 127.0.0.1 -U postgres -d "$DB" -AtF' ' -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del
    FROM pg_stat_user_tables ORDER BY relname"
}
api() { # method path token [body] -> response body; fails on a non-2xx
  curl -sf -X "$1" "localhost:$API$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}
register() { # email -> access token
  curl -sf -X POST "localhost:$API/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"bench-password-1\",\"name\":\"Webhook bench\"}" | field '["accessToken"]'
}
add_webhook() { # token path
  api POST /webhooks "$1" "{\"url\":\"http://127.0.0.1:$RECV$2\",\"events\":[\"task.created\"],\"description\":\"bench\"}" >/dev/null
}
task_total() { api GET '/tasks?limit=1' "$1" | field '["meta"]["total"]'; }

# A real delivery body (the shape of the contract, 680 bytes) and TaskFlow's headers, for the bare limit.
BODY=/tmp/bench-webhooks-body.json
cat >"$BODY" <<'EOF'
{"id":"019ad3f2-6c1e-7b3a-9f21-5d0c8e4a7b10","type":"task.created","occurredAt":"2026-11-30T06:27:30.123456Z","data":{"task":{"id":"019ad3f2-6c1d-7e44-8a0b-2f9c61d3e5a7","title":"Prepare the quarterly report","description":"Collect the figures from every team, check them against last quarter and write the summary for the board.","status":"PENDING","priority":"MEDIUM","dueDate":"2026-12-15T17:00:00Z","completedAt":null,"userId":"019ad3f1-0a2b-7c3d-8e4f-5a6b7c8d9e0f","user":{"id":"019ad3f1-0a2b-7c3d-8e4f-5a6b7c8d9e0f","name":"Webhook Bench","email":"webhook-bench@example.com"},"createdAt":"2026-11-30T06:27:30.123456Z","updatedAt":"2026-11-30T06:27:30.123456Z","version":1}}}
EOF
truncate -s -1 "$BODY"  # no trailing newline
cat >/tmp/bench-webhooks-bare.lua <<EOF
wrk.method = "POST"
local f = io.open("$BODY", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "TaskFlow-Webhooks/0.1.0"
wrk.headers["webhook-id"] = "019ad3f2-6c1e-7b3a-9f21-5d0c8e4a7b10"
wrk.headers["webhook-timestamp"] = "1796019650"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
wrk.headers["TaskFlow-Event"] = "task.created"
wrk.headers["TaskFlow-Delivery"] = "019ad3f2-6c1f-7000-8000-000000000001"
EOF
cat >/tmp/bench-webhooks-tasks.lua <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"webhook bench task","description":"Created by wrk in bench/webhooks.sh.","priority":"MEDIUM"}'
function response(status, headers, body)
  if status ~= 201 then io.stderr:write("POST /tasks answered " .. status .. "\n") end
end
EOF
wrk_rps() { # connections url [extra wrk args...] -> requests/s (2xx only: wrk counts non-2xx, which are subtracted)
  local conns=$1 url=$2; shift 2
  wrk -t"$(( conns < 2 ? 1 : 2 ))" -c"$conns" -d"${SECS}s" "$@" "$url" | awk '
    /requests in/ {n=$1} /Non-2xx/ {bad=$NF} /Requests\/sec/ {rps=$2}
    END {printf "%.0f\n", (n > 0 ? rps * (n - bad) / n : 0)}'
}

echo "events=$EVENTS seconds=$SECS connections=$CONNS receiver-workers=$RECEIVER_WORKERS" \
  "latency=${LATENCY_RATE}/s for ${LATENCY_SECS}s rounds=$ROUNDS; load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- a. bare limit ------------------------------------------------------------------------------------------------
python3 bench/webhook_receiver.py --port "$RECV" --stats-port "$STATS" --workers "$RECEIVER_WORKERS" \
  >"$LOG-receiver.log" 2>&1 & RECEIVER=$!
PIDS+=("$RECEIVER")
until_ok 10 stats
BARE=$(wrk_rps "$CONNS" "http://127.0.0.1:$RECV/bare" -s /tmp/bench-webhooks-bare.lua)
BARE_SEEN=$(stats | field '["payloads"]')
[ "$BARE_SEEN" -gt 0 ] || { echo "webhooks: the receiver did not parse the bare body as a delivery" >&2; exit 1; }
RECEIVER_PIDS="$RECEIVER $(pgrep -P "$RECEIVER" | tr '\n' ' ')"
echo "a. bare limit: $BARE req/s (wrk -c$CONNS, ${SECS}s, $(stats | field '["mean_body_bytes"]') bytes per body)"
# The same at the sender's connections to one receiver (WEBHOOK_MAX_IN_FLIGHT_PER_RECEIVER), for the reading.
BARE_PR=$(wrk_rps "$PER_RECEIVER" "http://127.0.0.1:$RECV/bare" -s /tmp/bench-webhooks-bare.lua)
echo "   at $PER_RECEIVER connections (the worker's bound per receiver): $BARE_PR req/s"
reset
[ "${BARE_ONLY:-}" != 1 ] || exit 0

# --- b. saturation ------------------------------------------------------------------------------------------------
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"$BIN" migrate >"$LOG-migrate.log" 2>&1
PORT=$API WORKER=false "$BIN" serve >"$LOG-serve.log" 2>&1 & SERVE=$!
PIDS+=("$SERVE")
until_ok 30 curl -sf "localhost:$API/health/ready"
HOOKED=$(register "hooked@example.com")
add_webhook "$HOOKED" /b
LOAD=$(python3 bench/webhook_load.py --port "$API" --token "$HOOKED" --count "$EVENTS" --threads 8)
E=$(task_total "$HOOKED")
echo "b. outbox filled: $E tasks created ($(echo "$LOAD" | field '["rate"]') req/s, statuses $(echo "$LOAD" | field '["statuses"]'))"
reset
sleep 11  # PostgreSQL 15 backends flush their statistics up to 10 s after going idle; there is no signal for it
read -r c0 f0 i0 u0 d0 <<<"$(pg_counters)"; TABLES0=$(pg_tables)
SERVE_T0=$(cpu_ticks "$SERVE"); RECV_T0=$(cpu_ticks $RECEIVER_PIDS)
PG_T0=$(cpu_ticks $(pg_backends))  # the API's connections; the worker's start from 0
T0=$(py 'import time; print(time.time())')
"$BIN" worker >"$LOG-worker.log" 2>&1 & WORKER_PID=$!
PIDS+=("$WORKER_PID")
# A look at what PostgreSQL is doing halfway (cheap): the states and wait events of the bench database's backends.
( sleep "$(py "print(max(2, $E / 4000))")"; psql -h 127.0.0.1 -U postgres -Atc "SELECT coalesce(wait_event_type, 'cpu'),
    state, left(regexp_replace(query, '\s+', ' ', 'g'), 60), count(*) FROM pg_stat_activity WHERE datname = '$DB'
    GROUP BY 1, 2, 3 ORDER BY 4 DESC" >"$LOG-activity.log" 2>&1 ) &
B_NOTE=""
wait_received "$E" "${SATURATION_MAX_SECS:-$(py "print(int(120 + $E / 50))")}" || B_NOTE=" (INCOMPLETE)"
B=$(stats)
DONE=$(echo "$B" | field '["count"]')
LAST=$(echo "$B" | field '["last"]'); FIRST=$(echo "$B" | field '["first"]')
WORKER_TICKS=$(cpu_ticks "$WORKER_PID"); SERVE_T1=$(cpu_ticks "$SERVE"); RECV_T1=$(cpu_ticks $RECEIVER_PIDS)
PG_T1=$(cpu_ticks $(pg_backends))
sleep 11  # statistics flush, as above (the worker idles meanwhile: a few polls at most)
read -r c1 f1 i1 u1 d1 <<<"$(pg_counters)"; TABLES1=$(pg_tables)
HZ=$(getconf CLK_TCK)
SAT=$(py "print(round($DONE / ($LAST - $T0)))")
SAT_STEADY=$(py "print(round(($DONE - 1) / max(1e-9, $LAST - $FIRST)))")
SAT_SECS=$(py "print(f'{$LAST - $T0:.1f}')")
echo "b. $DONE of $E deliveries$B_NOTE in ${SAT_SECS}s from the worker's start: $SAT/s (first to last arrival: $SAT_STEADY/s);" \
  "duplicates $(echo "$B" | field '["duplicates"]'), body $(echo "$B" | field '["mean_body_bytes"]') bytes"
py "
e, s = $E, $LAST - $T0
hz = $HZ
cpu = {'worker': $WORKER_TICKS, 'serve (idle API)': $SERVE_T1 - $SERVE_T0, 'receiver': $RECV_T1 - $RECV_T0,
       'postgres (bench db backends)': $PG_T1 - $PG_T0}
print('   CPU during b, in cores (2 = the whole machine): ' + ', '.join(f'{k} {v / hz / s:.2f}' for k, v in cpu.items()))
print(f'   per delivery: worker {1e6 * cpu[\"worker\"] / hz / e:.0f} us CPU; PostgreSQL: {($c1 - $c0) / e:.2f} commits,'
      f' {($f1 - $f0) / e:.1f} rows fetched, {($i1 - $i0) / e:.2f} inserted, {($u1 - $u0) / e:.2f} updated,'
      f' {($d1 - $d0) / e:.2f} deleted')
"
py "
before = {l.split()[0]: list(map(int, l.split()[1:])) for l in '''$TABLES0'''.splitlines()}
after = {l.split()[0]: list(map(int, l.split()[1:])) for l in '''$TABLES1'''.splitlines()}
rows = []
for table, now in after.items():
    was = before.get(table, [0, 0, 0])
    d = [n - w for n, w in zip(now, was)]
    if any(d):
        rows.append(f'{table} +{d[0] / $E:.2f}/~{d[1] / $E:.2f}/-{d[2] / $E:.2f}')
print('   rows per delivery (inserted/updated/deleted): ' + '; '.join(rows))
"
sed 's/^/   pg_stat_activity halfway: /' "$LOG-activity.log" | head -8
echo "   deliveries by status: $(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT string_agg(status || ' ' || n, ', ')
  FROM (SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status ORDER BY status) s")"

# --- c. latency at a steady rate ------------------------------------------------------------------------------------
# Only events that occur from now on count: deliveries left over from b (if it was incomplete) are not c's.
reset
C_T0=$(py 'import time; print(time.time())')
PACED=$(python3 bench/webhook_load.py --port "$API" --token "$HOOKED" --rate "$LATENCY_RATE" --seconds "$LATENCY_SECS" \
  --threads 4)
SENT=$(echo "$PACED" | field '["sent"]')
C_NOTE=""
until_ok 60 timed_at_least "$SENT" "$C_T0" || C_NOTE=" (INCOMPLETE: $(stats "$C_T0" | field '["latency_ms"]["n"]') of $SENT)"
C=$(stats "$C_T0")
LAT50=$(echo "$C" | field '["latency_ms"]["p50"]'); LAT99=$(echo "$C" | field '["latency_ms"]["p99"]')
echo "c. $SENT events at $(echo "$PACED" | field '["rate"]')/s (send lateness p99 $(echo "$PACED" | field '["late_ms"]["p99"]') ms," \
  "POST /tasks p50 $(echo "$PACED" | field '["response_ms"]["p50"]') ms): commit -> arrival" \
  "$(echo "$C" | field '["latency_ms"]')"

# --- d. cost of three webhooks on POST /tasks ----------------------------------------------------------------------
PLAIN=$(register "plain@example.com")
THREE=$(register "three@example.com")
for path in /d1 /d2 /d3; do add_webhook "$THREE" "$path"; done
A_RUNS=(); B_RUNS=(); D_NOTE=""
for round in $(seq "$ROUNDS"); do
  A_RUNS+=("$(wrk_rps "$CONNS" "http://127.0.0.1:$API/tasks" -s /tmp/bench-webhooks-tasks.lua -H "Authorization: Bearer $PLAIN")")
  reset
  B_RUNS+=("$(wrk_rps "$CONNS" "http://127.0.0.1:$API/tasks" -s /tmp/bench-webhooks-tasks.lua -H "Authorization: Bearer $THREE")")
  # Drain: every task of this round reaches the three receivers before the next A starts.
  CREATED=$(($(task_total "$THREE") - ${THREE_BEFORE:-0})); THREE_BEFORE=$(task_total "$THREE")
  wait_received $((3 * CREATED)) "${DRAIN_MAX_SECS:-$(py "print(int(120 + 3 * $CREATED / 50))")}" \
    || D_NOTE=" (NOT DRAINED between rounds: A shared the machine with deliveries)"
  DRAIN=$(stats)
  echo "d. round $round: A ${A_RUNS[-1]} req/s, B ${B_RUNS[-1]} req/s; $(echo "$DRAIN" | field '["count"]') of B's $((3 * CREATED)) deliveries arrived, the last" \
    "$(py "print(f'{$(echo "$DRAIN" | field '["last"]') - $(echo "$DRAIN" | field '["first"]'):.1f}')") s after the first"
done
MED_A=$(py "import statistics; print(round(statistics.median([${A_RUNS[*]/%/,}])))")
MED_B=$(py "import statistics; print(round(statistics.median([${B_RUNS[*]/%/,}])))")

# The worker stops cleanly on SIGTERM (exit 0).
kill -TERM "$WORKER_PID"
WORKER_EXIT=0; wait "$WORKER_PID" || WORKER_EXIT=$?

# --- the table ------------------------------------------------------------------------------------------------------
py "
bare, sat, steady = $BARE, $SAT, $SAT_STEADY
p50, p99 = $LAT50, $LAT99
a, b = $MED_A, $MED_B
rows = [
    ('a. bare limit: wrk -> receiver, req/s', f'{bare:,}', '', ''),
    ('b. deliveries/s at saturation ($E events)$B_NOTE', f'{sat:,}', '>= 1,000/s', sat >= 1000),
    ('   ratio to the bare limit', f'{sat / bare:.1%}', '>= 50 %', sat / bare >= 0.5),
    ('   (bare limit at $PER_RECEIVER connections; ratio)', f'{$BARE_PR:,}; {sat / $BARE_PR:.1%}', '', ''),
    ('   (first to last arrival)', f'{steady:,}', '', ''),
    ('c. commit -> arrival p50 at $LATENCY_RATE/s, ms$C_NOTE', f'{p50:.1f}', '< 50 ms', p50 < 50),
    ('   p99, ms', f'{p99:.1f}', '< 250 ms', p99 < 250),
    ('d. POST /tasks req/s, 0 webhooks (median)', f'{a:,}', '', ''),
    ('   3 webhooks + worker delivering (median)', f'{b:,}', '', ''),
    ('   change$D_NOTE', f'{b / a - 1:+.1%}', '>= -15 %', b / a >= 0.85),
]
print()
print(f'{\"measure\":<46} {\"figure\":>10}  {\"goal\":<11} met')
for name, figure, goal, met in rows:
    print(f'{name:<46} {figure:>10}  {goal:<11} {\"\" if met == \"\" else (\"yes\" if met else \"NO\")}')
print(f'd. runs A: ${A_RUNS[*]}; B: ${B_RUNS[*]}. worker exit on SIGTERM: $WORKER_EXIT. load now: ' + open('/proc/loadavg').read().split()[0])
"
