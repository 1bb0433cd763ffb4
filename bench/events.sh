#!/usr/bin/env bash
# Live events (GET /events, server-sent events) on PostgreSQL, in one run on one machine:
#   a. idle streams memory: instance B alone; S idle streams over N users from one client process; B's resident memory
#      (VmRSS) after a warm-up and with the S streams open (every one with its response headers): KiB per stream;
#   b. fan-out latency: instance A takes the writes, B holds the streams (one database, both WORKER=true, so every
#      event crosses instances through the relay and LISTEN/NOTIFY); LATENCY_STREAMS streams on B over the N users, a
#      paced writer commits LATENCY_RATE tasks/s through A, round robin over the same users, for LATENCY_SECS;
#      latency = the client's read time - the event's occurredAt (same host clock), over every event on every stream
#      of its owner; received against expected, p50/p99/max;
#   c. cost on POST /tasks: wrk POST /tasks against A, round robin over the N users, with no stream open vs with
#      C_STREAMS streams of those users open on B (each write then reaches its owner's streams: C_STREAMS/N of them)
#      and, with C_ON_A=1, the same streams open on A itself; after one warm-up run without streams (WARMUP=0: none),
#      rounds whose order turns by one each time (0 B A, B A 0, A 0 B, ...), medians -> ratio.
# One table at the end with the goals next to the figures; the ratios are what to keep (absolute numbers depend on the
# machine and on what else runs on it). The clients are bench/events_client.py (stdlib asyncio streams, paced writer,
# user registration). Logs: /tmp/bench-events-*.log.
#
# Needs: a release build (cargo build --release -p taskflow), wrk (apt-get install wrk), ss, PostgreSQL on localhost.
# Usage: bench/events.sh [streams=10000] [users=100]
#   Environment: LATENCY_STREAMS (1000), LATENCY_RATE (200), LATENCY_SECS (20), DRAIN_SECS (30: how long b waits for
#   events still missing once the writer is done), C_STREAMS (1000), ROUNDS (3), WARMUP (1), SECS and CONNS (wrk's,
#   10 and 32), C_ON_A (1: c also with the streams on A), C_PAUSE (0; 1: c's stream client is stopped while wrk runs
#   and reads what it was sent afterwards), PARTS ("a b c"), PORT_A (3212), PORT_B (3211), SETTLE_SECS (3: pause
#   before reading memory), KEEP_DB=1 (leave the database for a look afterwards).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/
cd "$(dirname "$0")/.."

STREAMS=${1:-10000}
USERS=${2:-100}
LATENCY_STREAMS=${LATENCY_STREAMS:-1000}
LATENCY_RATE=${LATENCY_RATE:-200}
LATENCY_SECS=${LATENCY_SECS:-20}
DRAIN_SECS=${DRAIN_SECS:-30}
C_STREAMS=${C_STREAMS:-1000}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-32}
C_ON_A=${C_ON_A:-1}
C_PAUSE=${C_PAUSE:-0}
PARTS=${PARTS:-a b c}
SETTLE=${SETTLE_SECS:-3}
PA=${PORT_A:-3212}
PB=${PORT_B:-3211}
BIN=${BENCH_BIN:-target/release/taskflow}
DB=taskflow_bench_events
PG=postgres://postgres@127.0.0.1:5432
LOG=/tmp/bench-events
CLIENT="python3 bench/events_client.py"
[ -x "$BIN" ] || { echo "events: $BIN missing: cargo build --release -p taskflow" >&2; exit 2; }
for tool in wrk psql curl ss python3; do command -v "$tool" >/dev/null || { echo "events: $tool not found" >&2; exit 2; }; done
# Each stream is a socket on both sides: the client process and the server each need S descriptors and then some.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
[ "$NOFILE" -gt $((STREAMS + 1000)) ] \
  || echo "events: open files limited to $NOFILE (hard limit), under $STREAMS streams + 1,000: expect failures" >&2

export TOKEN_KEY=$(printf '6%.0s' {1..64}) RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_AUTH_PER_MINUTE=100000 \
  ACCESS_TOKEN_TTL_SECS=7200 RUST_LOG=warn DATABASE_URL=$PG/$DB WORKER=true
unset REDIS_URL

PIDS=()
cleanup() {
  # CONT first: a stream client stopped by C_PAUSE=1 would not act on SIGTERM until continued.
  for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  if [ "${KEEP_DB:-}" != 1 ]; then
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "events: stopped by SIGTERM" >&2; exit 143' TERM
trap 'echo "events: stopped by SIGINT" >&2; exit 130' INT

py() { python3 -c "$@"; }
field() { py "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; } # field '["a"]["b"]' <json
until_ok() { # seconds command... : retry the command every 0.1 s until it succeeds, or fail after the deadline
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "events: timed out waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { # pids... -> user+system clock ticks so far, summed
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
now() { py 'import time; print(time.time())'; }
task_count() { psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM tasks"; }
established() { ss -Htn state established "( sport = :$1 )" | wc -l; } # server-side sockets of port $1
streams_metric() { # the server's open-streams gauge (summed over labels), or n/a while it does not have one
  curl -sf "localhost:$1/metrics" | awk '/^(taskflow_)?event_streams_open[ {]/ {s += $NF; n++} END {print (n ? s : "n/a")}'
}
start_serve() { # port log -> pid (WORKER=true: each instance relays events too)
  PORT=$1 "$BIN" serve >"$2" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  until_ok 60 curl -sf "localhost:$1/health/ready"
  SERVE_PID=$pid
}
has_line() { grep -q "\"phase\": \"$2\"" "$1"; }
forget() { # pid: a process that has been waited for leaves the list that cleanup kills (its pid may be reused)
  local kept=() pid
  for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  PIDS=("${kept[@]}")
}
line_of() { grep -m1 "\"phase\": \"$2\"" "$1"; }
open_streams() { # port count log [extra args] -> CLIENT_PID once every stream has its headers (or failed)
  local port=$1 count=$2 log=$3; shift 3
  $CLIENT streams --port "$port" --users "$USERS_FILE" --streams "$count" "$@" >"$log" 2>"$log.err" &
  CLIENT_PID=$!
  PIDS+=("$CLIENT_PID")
  local deadline=$(($(date +%s) + 120 + count / 50))
  until has_line "$log" open; do
    if ! kill -0 "$CLIENT_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "events: $count streams on :$port not open (client gone or 120 s + 1 s per 50 streams passed);" \
        "client stderr:" >&2
      tail -5 "$log.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  OPEN_LINE=$(line_of "$log" open)
  if [ "$(echo "$OPEN_LINE" | field '["failed"]')" != 0 ]; then
    echo "events: some streams failed to open on :$port: $OPEN_LINE" >&2
  fi
}
stop_client() { # -> END_LINE (hold mode)
  kill -TERM "$CLIENT_PID"
  wait "$CLIENT_PID" || true
  forget "$CLIENT_PID"
  END_LINE=$(line_of "$1" end || echo '{}')
}

echo "streams=$STREAMS users=$USERS latency: $LATENCY_STREAMS streams, ${LATENCY_RATE}/s for ${LATENCY_SECS}s;" \
  "c: $C_STREAMS streams, wrk -c$CONNS ${SECS}s, rounds=$ROUNDS, on A too: $C_ON_A, client paused: $C_PAUSE;" \
  "open files $NOFILE;" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"

psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
"$BIN" migrate >"$LOG-migrate.log" 2>&1
start_serve "$PB" "$LOG-serve-b.log"; B_PID=$SERVE_PID
USERS_FILE=$LOG-users.json
$CLIENT users --port "$PB" --count "$USERS" --out "$USERS_FILE" >"$LOG-users.log"
echo "users: $(cat "$LOG-users.log")"

# --- a. idle streams memory ----------------------------------------------------------------------------------------
A_OPEN=""; A_KEEPALIVE=0; A_SILENCE=0; A_SS=""; A_METRIC=""; RSS0=0; RSS1=0; RSS2=0; RSS3=0; A_SECS=""
if [[ " $PARTS " == *" a "* ]]; then
  # Warm-up: one stream per user opened and closed (the per-user state, the pools, the allocator's first arenas), a
  # few requests; then B's memory is the baseline.
  open_streams "$PB" "$USERS" "$LOG-a-warmup.log"
  sleep 1
  stop_client "$LOG-a-warmup.log"
  curl -sf "localhost:$PB/metrics" >/dev/null
  sleep "$SETTLE"
  RSS0=$(rss_kib "$B_PID")
  open_streams "$PB" "$STREAMS" "$LOG-a-streams.log"
  A_OPEN_LINE=$OPEN_LINE
  A_SECS=$(echo "$OPEN_LINE" | field '["seconds"]')
  A_OPEN=$(echo "$OPEN_LINE" | field '["open"]')
  sleep "$SETTLE"
  RSS1=$(rss_kib "$B_PID")
  A_SS=$(established "$PB")
  A_METRIC=$(streams_metric "$PB")
  # The contract's keep-alive: a comment at least every 15 s on every stream; held 18 s in all to see it.
  sleep "$(py "print(max(0, 18 - $SETTLE))")"
  RSS_HELD=$(rss_kib "$B_PID")
  stop_client "$LOG-a-streams.log"
  A_END=$END_LINE
  A_KEEPALIVE=$(echo "$A_END" | field '["with_comment"]')
  A_SILENCE=$(echo "$A_END" | field '["max_silence_s"]')
  sleep "$SETTLE"
  RSS2=$(rss_kib "$B_PID")
  # Memory kept after the streams closed is either reused (the allocator keeps what it freed) or leaked: opening
  # the same streams again tells which.
  open_streams "$PB" "$STREAMS" "$LOG-a-again.log"
  sleep "$SETTLE"
  RSS3=$(rss_kib "$B_PID")
  stop_client "$LOG-a-again.log"
  echo "a. $A_OPEN of $STREAMS streams open in ${A_SECS}s ($(echo "$A_OPEN_LINE" | field '["failed"]') failed" \
    "$(echo "$A_OPEN_LINE" | field '["reasons"]')); B: $A_SS established sockets, gauge $A_METRIC;" \
    "VmRSS $RSS0 KiB -> $RSS1 KiB with the streams ($RSS_HELD KiB 18 s after they opened) -> $RSS2 KiB after they" \
    "closed -> $RSS3 KiB with $STREAMS streams open again;" \
    "held $(echo "$A_END" | field '["held_s"]') s: $(echo "$A_END" | field '["ended"]') ended by the server," \
    "$(echo "$A_END" | field '["comments"]') comments, $A_KEEPALIVE streams with at least one; longest silence" \
    "on a stream (headers or frame to the next frame or the end) $A_SILENCE s," \
    "$(echo "$A_END" | field '["silent_over_16s"]') streams silent for over 16 s"
fi

# --- b. fan-out latency across instances -------------------------------------------------------------------------------
start_serve "$PA" "$LOG-serve-a.log"; A_PID=$SERVE_PID
B_LINE='{}'; B_WRITE='{}'; B_CPU=''
if [[ " $PARTS " == *" b "* ]]; then
  EXPECT=$LOG-b-expect.json
  rm -f "$EXPECT"
  open_streams "$PB" "$LATENCY_STREAMS" "$LOG-b-streams.log" --expect "$EXPECT" --drain "$DRAIN_SECS"
  T0=$(now); AT0=$(cpu_ticks "$A_PID"); BT0=$(cpu_ticks "$B_PID")
  B_WRITE=$($CLIENT write --port "$PA" --users "$USERS_FILE" --rate "$LATENCY_RATE" --seconds "$LATENCY_SECS" \
    --out "$EXPECT")
  T1=$(now); AT1=$(cpu_ticks "$A_PID"); BT1=$(cpu_ticks "$B_PID")
  wait "$CLIENT_PID" || true
  forget "$CLIENT_PID"
  B_LINE=$(line_of "$LOG-b-streams.log" latency || echo '{"received": 0, "expected": 0, "latency_ms": {}}')
  B_CPU=$(py "
s, hz = $T1 - $T0, $HZ
print(f'A {($AT1 - $AT0) / hz / s:.2f}, B {($BT1 - $BT0) / hz / s:.2f}, stream client {$(echo "$B_LINE" | field '.get("cpu_since_open", -1)'):.2f}')")
  echo "b. writer: $B_WRITE"
  echo "b. streams: $B_LINE"
  echo "b. CPU while writing, in cores (2 = the whole machine): $B_CPU"
fi

# --- c. cost on POST /tasks ------------------------------------------------------------------------------------------
TOKENS=$LOG-tokens.txt
py "import json; print('\n'.join(u['token'] for u in json.load(open('$USERS_FILE'))))" >"$TOKENS"
cat >"$LOG-tasks.lua" <<EOF
local tokens = {}
for line in io.lines("$TOKENS") do tokens[#tokens + 1] = line end
local body = '{"title":"events bench task","description":"Created by wrk in bench/events.sh.","priority":"MEDIUM"}'
local threads, counter = 0, 0
function setup(thread) thread:set("first", threads * 7919); threads = threads + 1 end
function init(args) counter = first or 0 end
function request()
  counter = counter + 1
  return wrk.format("POST", "/tasks", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[counter % #tokens + 1]}, body)
end
function response(status, headers, body)
  if status ~= 201 then io.stderr:write("POST /tasks answered " .. status .. "\n") end
end
EOF
wrk_run() { # -> "requests/s wrk-cpu-ticks" (2xx only: wrk counts non-2xx, which are subtracted)
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$LOG-tasks.lua" "http://127.0.0.1:$PA/tasks" 2>>"$LOG-wrk.err")
  echo "$out" | awk '/requests in/ {n=$1} /Non-2xx/ {bad=$NF} /Requests\/sec/ {rps=$2}
    END {printf "%.0f ", (n > 0 ? rps * (n - bad) / n : 0)}'
  awk '{print $16 + $17}' "/proc/$BASHPID/stat"  # this subshell's waited-for children: wrk (and awk, nearly 0)
}
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; } # all cores, in clock ticks
pg_counters() { # one line: commits, rows returned (scans), rows fetched (index), inserted, updated in the bench database
  psql -h 127.0.0.1 -U postgres -Atc "SELECT xact_commit, tup_returned, tup_fetched, tup_inserted, tup_updated
    FROM pg_stat_database WHERE datname = '$DB'" | tr '|' ' '
}
pg_backends() { psql -h 127.0.0.1 -U postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'" | tr '\n' ' '; }
ZERO_RUNS=(); ONB_RUNS=(); ONA_RUNS=(); ZERO_US=(); ONB_US=(); ONA_US=(); C_OTHERS=()
if [[ " $PARTS " == *" c "* ]]; then
  PER_USER=$(py "print($C_STREAMS / $USERS)")
  sleep 11; PG_LAST=$(pg_counters)
  c_run() { # label [port]: one wrk run against A, with C_STREAMS streams open on port (none without) -> RPS, US
    local label=$1 port=${2:-} client=""
    local log=$LOG-c-${label// /-}.log
    if [ -n "$port" ]; then open_streams "$port" "$C_STREAMS" "$log"; client=$CLIENT_PID; fi
    local pg tasks0 t0 a0 b0 c0 p0 m0 rps wrk_ticks
    pg=$(pg_backends); tasks0=$(task_count)
    t0=$(now); a0=$(cpu_ticks "$A_PID"); b0=$(cpu_ticks "$B_PID"); c0=$(cpu_ticks $client); p0=$(cpu_ticks $pg)
    m0=$(machine_busy)
    # C_PAUSE=1: the stream client is stopped while wrk runs (the kernel keeps receiving its streams' frames into the
    # sockets' buffers) and reads them after, so the run measures what the streams cost the server and not the
    # client's reading on the same cores; the events are counted all the same.
    if [ -n "$port" ] && [ "$C_PAUSE" = 1 ]; then kill -STOP "$CLIENT_PID"; fi
    read -r rps wrk_ticks <<<"$(wrk_run)"
    if [ -n "$port" ] && [ "$C_PAUSE" = 1 ]; then kill -CONT "$CLIENT_PID"; fi
    local t1 a1 b1 c1 p1 m1 created events="" 
    t1=$(now); a1=$(cpu_ticks "$A_PID"); b1=$(cpu_ticks "$B_PID"); c1=$(cpu_ticks $client); p1=$(cpu_ticks $pg)
    m1=$(machine_busy)
    # The last events of the run reach the streams meanwhile; PostgreSQL 15 backends flush their statistics up to
    # 10 s after going idle (there is no signal for it), so the counters are read 11 s after each run.
    sleep 11
    created=$(($(task_count) - tasks0))  # wrk does not count the requests in flight when it stops; the database does
    local pg_now pg_note
    pg_now=$(pg_counters)
    pg_note=$(py "
d = [b - a for a, b in zip(map(int, '$PG_LAST'.split()), map(int, '$pg_now'.split()))]
n = max($created, 1)
print(f'PostgreSQL per POST (from the previous reading, 11 s of idling included): {d[0] / n:.2f} commits,'
      f' {d[1] / n:.1f} rows returned, {d[2] / n:.1f} fetched, {d[3] / n:.2f} inserted, {d[4] / n:.2f} updated')")
    PG_LAST=$pg_now
    if [ -n "$port" ]; then
      stop_client "$log"
      events=$(py "
e = $END_LINE
print(f'; {e.get(\"events\", 0):,} of {round($created * $PER_USER):,} events received, {e.get(\"ended\", \"?\")} streams'
      f' ended by the server, {e.get(\"reconnects\", \"?\")} reconnects')")
    fi
    # CPU in cores over the run; per request, the server side (A, B, their PostgreSQL backends) and the stream client
    read -r US OTHERS CPU_NOTE <<<"$(py "
s, hz, n = $t1 - $t0, $HZ, max($created, 1)
a, b, c, p, w, m = $a1 - $a0, $b1 - $b0, $c1 - $c0, $p1 - $p0, $wrk_ticks, $m1 - $m0
others = m - a - b - c - p - w
print(round(1e6 * (a + b + p + c) / hz / n), f'{others / hz / s:.2f}', f'CPU in cores: A {a / hz / s:.2f}, B {b / hz / s:.2f}, PostgreSQL {p / hz / s:.2f},'
      f' stream client {c / hz / s:.2f}, wrk {w / hz / s:.2f}, everything else on the machine {others / hz / s:.2f};'
      f' per POST (A + B + PostgreSQL + client) {1e6 * (a + b + p + c) / hz / n:.0f} us, without the client'
      f' {1e6 * (a + b + p) / hz / n:.0f} us')")"
    echo "c. round $round, $label: $rps req/s, $created tasks$events"
    echo "   $CPU_NOTE"
    echo "   $pg_note"
    RPS=$rps
    C_OTHERS+=("$OTHERS")
  }
  # The first run on a fresh database is faster than any later one (its tables and indexes are small and cached, no
  # autovacuum yet): with WARMUP=1 one run without streams comes first and is not counted.
  if [ "${WARMUP:-1}" = 1 ]; then round=0; c_run "no stream (warm-up, not counted)"; fi
  # The database grows with every run, so a fixed order would put each configuration at the same place in the drift:
  # the order turns by one each round (0 B A, B A 0, A 0 B), and with ROUNDS a multiple of the configurations each
  # one runs as often first, second and third.
  KINDS=(zero onb); [ "$C_ON_A" = 1 ] && KINDS+=(ona)
  for round in $(seq "$ROUNDS"); do
    for i in "${!KINDS[@]}"; do
      case ${KINDS[$(((i + round - 1) % ${#KINDS[@]}))]} in
        zero) c_run "no stream"; ZERO_RUNS+=("$RPS"); ZERO_US+=("$US") ;;
        onb) c_run "$C_STREAMS streams on B" "$PB"; ONB_RUNS+=("$RPS"); ONB_US+=("$US") ;;
        ona) c_run "$C_STREAMS streams on A" "$PA"; ONA_RUNS+=("$RPS"); ONA_US+=("$US") ;;
      esac
    done
  done
fi
median() { py "import statistics; v = [$(IFS=,; echo "$*")]; print(round(statistics.median(v)) if v else 0)"; }
MED_0=$(median "${ZERO_RUNS[@]}"); MED_B=$(median "${ONB_RUNS[@]}"); MED_A=$(median "${ONA_RUNS[@]}")
US_0=$(median "${ZERO_US[@]}"); US_B=$(median "${ONB_US[@]}"); US_A=$(median "${ONA_US[@]}")

# --- the table ------------------------------------------------------------------------------------------------------
py "
import json
rss0, rss1, s, opened = $RSS0, $RSS1, $STREAMS, '$A_OPEN'
b = json.loads('''$B_LINE''')
lat = b.get('latency_ms', {})
z, onb, ona = $MED_0, $MED_B, $MED_A
uz, ub, ua = $US_0, $US_B, $US_A
rows = []
if opened:
    per = (rss1 - rss0) / int(opened) if int(opened) else float('nan')
    rows += [
        ('a. idle streams open (client; ss; gauge)', f'{int(opened):,}; $A_SS; $A_METRIC', f'{s:,}', int(opened) == s),
        ('   B VmRSS before -> with the streams, MiB', f'{rss0 / 1024:.1f} -> {rss1 / 1024:.1f}', '', ''),
        ('   ... after they closed -> reopened, MiB', f'{$RSS2 / 1024:.1f} -> {$RSS3 / 1024:.1f}', '', ''),
        ('   KiB per idle stream', f'{per:.1f}', '<= 16 KiB', per <= 16),
        # The contract's 15 s, plus 1 s for the scheduling of a busy machine.
        ('   longest silence on an idle stream, s', '$A_SILENCE', '<= 16 s', ($A_SILENCE or 99) <= 16),
    ]
if b.get('expected'):
    rows += [
        ('b. events received / expected', f'{b[\"received\"]:,} / {b[\"expected\"]:,}', 'all', b['received'] == b['expected']),
        ('   write on A -> read on B, p50 ms', f'{lat[\"p50\"]}', '< 50 ms', lat['p50'] is not None and lat['p50'] < 50),
        ('   p99 ms', f'{lat[\"p99\"]}', '< 500 ms', lat['p99'] is not None and lat['p99'] < 500),
        ('   max ms', f'{lat[\"max\"]}', '', ''),
    ]
if z:
    rows += [('c. POST /tasks req/s, no stream (median)', f'{z:,}', '', '')]
    if onb:
        rows += [('   $C_STREAMS streams on B (median)', f'{onb:,}', '', ''),
                 ('   change', f'{onb / z - 1:+.1%}', '>= -15 %', onb / z >= 0.85)]
    if ona:
        rows += [('   $C_STREAMS streams on A itself (median)', f'{ona:,}', '', ''),
                 ('   change', f'{ona / z - 1:+.1%}', '>= -15 %', ona / z >= 0.85)]
    # CPU per request does not depend on how much of the machine other sessions took meanwhile.
    rows += [('   CPU us per POST, no stream (median)', f'{uz:,}', '', '')]
    if ub:
        rows += [('   ... streams on B (A+B+PG+client; change)', f'{ub:,}; {ub / uz - 1:+.1%}', '', '')]
    if ua:
        rows += [('   ... streams on A (A+B+PG+client; change)', f'{ua:,}; {ua / uz - 1:+.1%}', '', '')]
    others = [$(IFS=,; echo "${C_OTHERS[*]:-}")]
    rows += [('   other processes on the machine, cores', f'{min(others):.2f} to {max(others):.2f}', '', '')]
print()
print(f'{\"measure\":<44} {\"figure\":>18}  {\"goal\":<10} met')
for name, figure, goal, met in rows:
    print(f'{name:<44} {figure:>18}  {goal:<10} {\"\" if met == \"\" else (\"yes\" if met else \"NO\")}')
print('b. CPU while writing (cores): $B_CPU. c. req/s: none ${ZERO_RUNS[*]:-}; on B ${ONB_RUNS[*]:-}; on A ${ONA_RUNS[*]:-};'
      ' CPU us per POST: none ${ZERO_US[*]:-}; on B ${ONB_US[*]:-}; on A ${ONA_US[*]:-}. load now: '
      + open('/proc/loadavg').read().split()[0])
"
