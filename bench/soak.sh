#!/usr/bin/env bash
# Soak and fault run: a bounded mixed load against ONE release-built `taskflow serve` on PostgreSQL + Redis for
# several minutes, with Redis killed and restarted, the database link cut and restored, a login storm, and a
# SIGTERM at the end while the load still runs. Reports responses by phase and status, the slowest response,
# resident memory over time, the exit code and the time from SIGTERM to exit; exits 1 if a goal is missed:
#   no 500; no response slower than DATABASE_STATEMENT_TIMEOUT_MS + 1 s; memory flat after warm-up (no trend);
#   exit 0 within SHUTDOWN_GRACE_SECS of SIGTERM; and (the contract) every 429/503 carries Retry-After.
#
# Nothing shared is disturbed: the run uses a fresh database (dropped at the end) on the shared PostgreSQL,
# reached through a proxy (bench/soak_proxy.py) that the run cuts, and a private redis-server on its own port,
# which the run kills. Loopback only. The phases and goals are described in bench/soak_run.py (standard-library
# Python 3.11, no packages to install). Results: target/soak/<timestamp>/ (result.json, server/proxy/redis logs).
#
# Needs: a release build (cargo build --release --locked -p taskflow), redis-server, createdb/dropdb, python3.
# Usage: bench/soak.sh [--quick] [--duration SECS] [--clients N]
#   default 300 s and 32 clients; --quick is 90 s. The server's settings below can be overridden from the
#   environment (e.g. SHUTDOWN_GRACE_SECS=5 bench/soak.sh --quick).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/
cd "$(dirname "$0")/.."

DURATION=300
CLIENTS=32
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=90 ;;
    --duration) DURATION=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$DURATION$CLIENTS" in *[!0-9]*) echo "soak: --duration and --clients take whole numbers" >&2; exit 2 ;; esac
[ "$DURATION" -ge 30 ] && [ "$DURATION" -le 3600 ] || { echo "soak: --duration must be 30..3600" >&2; exit 2; }
[ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 256 ] || { echo "soak: --clients must be 1..256" >&2; exit 2; }

BIN=${SOAK_BIN:-target/release/taskflow}
[ -x "$BIN" ] || { echo "soak: $BIN missing: cargo build --release --locked -p taskflow" >&2; exit 2; }
for tool in redis-server createdb dropdb python3; do
  command -v "$tool" >/dev/null || { echo "soak: $tool not found" >&2; exit 2; }
done

RUN_DIR=target/soak/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RUN_DIR"
DB=taskflow_soak_$(date -u +%Y%m%d%H%M%S)_$$

# The service's settings for the run (each overridable): limits high enough not to dominate, a short statement
# timeout so the latency goal is tight, a shorter grace than the default 20 s.
export SOAK_DURATION=$DURATION SOAK_CLIENTS=$CLIENTS SOAK_STORM_CLIENTS=${SOAK_STORM_CLIENTS:-16} \
  SOAK_RUN_DIR=$RUN_DIR SOAK_BIN=$BIN SOAK_DB=$DB \
  TOKEN_KEY=${TOKEN_KEY:-$(printf '7%.0s' {1..64})} \
  RATE_LIMIT_PER_MINUTE=${RATE_LIMIT_PER_MINUTE:-1000000} \
  RATE_LIMIT_AUTH_PER_MINUTE=${RATE_LIMIT_AUTH_PER_MINUTE:-1000000} \
  DATABASE_STATEMENT_TIMEOUT_MS=${DATABASE_STATEMENT_TIMEOUT_MS:-2000} \
  DATABASE_ACQUIRE_TIMEOUT_MS=${DATABASE_ACQUIRE_TIMEOUT_MS:-2000} \
  SHUTDOWN_GRACE_SECS=${SHUTDOWN_GRACE_SECS:-10} \
  RUST_LOG=${RUST_LOG:-warn} LOG_FORMAT=${LOG_FORMAT:-json}

cleanup() {
  # Processes the run started (their pids are in the run directory), then the run's database.
  if [ -f "$RUN_DIR/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$RUN_DIR/pids"
  fi
  dropdb -h 127.0.0.1 -U postgres --if-exists --force "$DB" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

createdb -h 127.0.0.1 -U postgres "$DB"
echo "soak: $(nproc) cores, $DURATION s, $CLIENTS clients, statement timeout ${DATABASE_STATEMENT_TIMEOUT_MS} ms," \
  "acquire timeout ${DATABASE_ACQUIRE_TIMEOUT_MS} ms, grace ${SHUTDOWN_GRACE_SECS} s, database $DB, logs in $RUN_DIR"
status=0
python3 bench/soak_run.py || status=$?

# What the server logged at warn and above (RUST_LOG=warn), by level and message, for the reading.
if [ -f "$RUN_DIR/server.log" ]; then
  echo
  echo "Server log lines by level and message (top 15):"
  python3 - "$RUN_DIR/server.log" <<'EOF'
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    try:
        rec = json.loads(line)
        msg = rec.get("message") or rec.get("fields", {}).get("message", "")
        status = rec.get("status") or rec.get("fields", {}).get("status")
        counts[(rec.get("level", "?"), msg[:80] + (f" ({status})" if status else ""))] += 1
    except ValueError:
        counts[("raw", line.strip()[:90])] += 1
for (level, msg), n in counts.most_common(15):
    print(f"  {n:>7}  {level:<5} {msg}")
EOF
fi
exit "$status"
