#!/usr/bin/env bash
# Throughput of GET /tasks/:id and GET /tasks with the Redis read cache on vs off, in one run on one machine.
#
# Two instances share one PostgreSQL database seeded with demo tasks: one without REDIS_URL (cache off), one with
# it (cache on). wrk drives each in turn with the same settings; the ratio between them is the figure to keep
# (absolute numbers depend on the machine and on what else runs on it).
#
# Needs: a release build (cargo build --release), wrk (apt-get install wrk), PostgreSQL and Redis on localhost.
# Usage: bench/cache.sh [tasks=100000] [seconds=10] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${1:-100000}
SECS=${2:-10}
CONNS=${3:-32}
BIN=target/release/taskflow
DB=taskflow_bench
PG=postgres://postgres@127.0.0.1:5432
export TOKEN_KEY=$(printf '5%.0s' {1..64}) RATE_LIMIT_PER_MINUTE=100000000 RATE_LIMIT_AUTH_PER_MINUTE=100000 \
  WORKER=false RUST_LOG=warn DATABASE_URL=$PG/$DB

psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
$BIN seed --tasks "$TASKS" >/dev/null 2>&1
redis-cli --scan --pattern 'bench:*' | xargs -r redis-cli del >/dev/null

PORT=3101 $BIN serve >/tmp/bench-off.log 2>&1 & OFF=$!
PORT=3102 REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=bench $BIN serve >/tmp/bench-on.log 2>&1 & ON=$!
trap 'kill $OFF $ON 2>/dev/null' EXIT
sleep 2

TOKEN=$(curl -sf -X POST localhost:3101/auth/login -H 'Content-Type: application/json' \
  -d '{"email":"user@example.com","password":"user123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
ID=$(curl -sf 'localhost:3101/tasks?limit=1' -H "Authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')

run() { # port path -> "requests/s avg-latency"
  wrk -t"$(( CONNS < 2 ? 1 : 2 ))" -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1$2" \
    | awk '/Requests\/sec/ {rps=$2} /^    Latency/ {lat=$2} END {print rps, lat}'
}

echo "tasks=$TASKS seconds=$SECS connections=$CONNS"
printf '%-28s %12s %12s %12s %12s %8s\n' endpoint "off req/s" "off latency" "on req/s" "on latency" ratio
for path in "/tasks/$ID" "/tasks?limit=20" "/tasks?status=PENDING&sort=priority&limit=50" "/tasks/stats"; do
  read -r off_rps off_lat <<<"$(run 3101 "$path")"
  read -r on_rps on_lat <<<"$(run 3102 "$path")"
  ratio=$(python3 -c "print(f'{$on_rps/$off_rps:.2f}')")
  label=$(echo "$path" | sed "s/$ID/{id}/")
  printf '%-28s %12s %12s %12s %12s %8s\n' "$label" "$off_rps" "$off_lat" "$on_rps" "$on_lat" "x$ratio"
done
# What a hit costs inside the server: the mean time of the one-round-trip generation+value read, from /metrics.
curl -s localhost:3102/metrics | python3 -c '
import re, sys
text = sys.stdin.read()
def value(name):
    m = re.search(name + r"\{[^}]*op=\"cache_get_generational\"[^}]*\} ([0-9.e+-]+)", text)
    return float(m.group(1)) if m else 0.0
n, total = value("redis_command_duration_seconds_count"), value("redis_command_duration_seconds_sum")
hits = sum(float(v) for v in re.findall(r"cache_hits_total\{[^}]*\} ([0-9.e+-]+)", text))
misses = sum(float(v) for v in re.findall(r"cache_misses_total\{[^}]*\} ([0-9.e+-]+)", text))
print(f"cache reads: {n:.0f}, hits {hits:.0f}, misses {misses:.0f}; mean Redis time per cached read {1000 * total / max(n, 1):.3f} ms")
'
redis-cli --scan --pattern 'bench:*' | xargs -r redis-cli del >/dev/null
