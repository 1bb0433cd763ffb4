#!/usr/bin/env python3
"""The soak and fault run behind bench/soak.sh (standard library only).

Owns every process of the run: a private redis-server, the database proxy (soak_proxy.py) and one
`taskflow serve`. Drives a bounded mixed load (CLIENTS threads, one keep-alive connection each) through
these phases, as fractions of the duration D:

    steady       [0,    0.20)  warm-up: memory goals are measured from its last 10 s
    redis_down   [0.20, 0.30)  the private Redis is SIGKILLed; restarted (empty) at the end
    recovery     [0.30, 0.40)
    db_down      [0.40, 0.50)  the proxy drops every database connection and refuses new ones
    recovery     [0.50, 0.60)  the proxy forwards again
    login_storm  [0.60, 0.70)  16 more threads log in without pause: unknown emails and real users
    steady       [0.70, 0.90)
    shutdown     [0.90, ...)   SIGTERM while the load runs; ends when the process has exited

Every loop is bounded by a deadline and a count; every request by a socket timeout. Prints the tables and
the goals, writes result.json into the run directory, and exits 1 if a goal is missed (2 on a setup error).
Configuration comes from the environment that soak.sh sets (SOAK_*), see soak.sh.
"""

from __future__ import annotations

import array
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict

ENV = os.environ
DURATION = float(ENV["SOAK_DURATION"])
CLIENTS = int(ENV["SOAK_CLIENTS"])
STORM_CLIENTS = int(ENV["SOAK_STORM_CLIENTS"])
RUN_DIR = ENV["SOAK_RUN_DIR"]
BIN = ENV["SOAK_BIN"]
DB_NAME = ENV["SOAK_DB"]
PG_PORT = int(ENV.get("SOAK_PG_PORT", "5432"))
STATEMENT_MS = int(ENV["DATABASE_STATEMENT_TIMEOUT_MS"])
GRACE_SECS = float(ENV["SHUTDOWN_GRACE_SECS"])
REQUEST_TIMEOUT = float(ENV.get("SOAK_REQUEST_TIMEOUT", "30"))
# Memory is flat when it has no trend after warm-up (the least-squares slope of VmRSS from the end of warm-up
# to SIGTERM is at most SLOPE MiB a minute: 0.5 is 30 MiB an hour), the level before SIGTERM stays within FLAT
# of the level at the end of warm-up, and no sample after warm-up exceeds it by more than PEAK (the login
# storm may take bounded hashing memory).
SLOPE_MIB_PER_MIN = float(ENV.get("SOAK_SLOPE_MIB_PER_MIN", "0.5"))
FLAT_MIB = float(ENV.get("SOAK_FLAT_MIB", "32"))
FLAT_RATIO = float(ENV.get("SOAK_FLAT_RATIO", "0.20"))
PEAK_MIB = float(ENV.get("SOAK_PEAK_MIB", "96"))
PEAK_RATIO = float(ENV.get("SOAK_PEAK_RATIO", "0.50"))
MAX_LOOPS = 10_000_000  # per client: a bound that a run never reaches before its deadline
LOOPBACK = "127.0.0.1"

PHASES = [  # (start fraction, name)
    (0.00, "steady"),
    (0.20, "redis_down"),
    (0.30, "recovery"),
    (0.40, "db_down"),
    (0.50, "recovery"),
    (0.60, "login_storm"),
    (0.70, "steady"),
    (0.90, "shutdown"),
]
PHASE_ORDER = ["steady", "redis_down", "db_down", "recovery", "login_storm", "shutdown"]


def free_port(preferred: int) -> int:
    """The preferred loopback port if nothing listens there, else one the kernel picks."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def wait_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Recorder:
    """Every response by phase: status counts, latencies, the slowest; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "steady"
        self.codes: dict[str, Counter] = defaultdict(Counter)
        self.route_codes: dict[str, Counter] = defaultdict(Counter)
        self.latencies: dict[str, array.array] = defaultdict(lambda: array.array("d"))
        self.slowest: list[tuple[float, str, str, str]] = []  # (seconds, phase, route, status), top 5
        self.no_retry_after: Counter = Counter()  # 503/429 without Retry-After, by phase
        self.samples: dict[str, list[str]] = {}  # first body seen per (phase, status>=500) for evidence
        self.errors_span: dict[str, list[float]] = {}  # phase -> [first start, last end] of its 5xx, wall clock
        self.transport: list[str] = []  # the first transport errors outside the shutdown phase, for evidence
        self.t0 = time.monotonic()

    def record(self, phase: str, route: str, status: str, seconds: float) -> None:
        with self.lock:
            self.codes[phase][status] += 1
            self.route_codes[route][status] += 1
            self.latencies[phase].append(seconds)
            if len(self.slowest) < 5 or seconds > self.slowest[-1][0]:
                self.slowest.append((seconds, phase, route, status))
                self.slowest.sort(reverse=True)
                del self.slowest[5:]


REC = Recorder()
STOP = threading.Event()


class Client:
    """One keep-alive HTTP/1.1 connection to the server, recording every exchange."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.token: str | None = None

    def request(self, method: str, path: str, route: str, body: object | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict, dict[str, str]]:
        """Sends one request; returns (status, json body or {}, headers). Status 0 is a transport error."""
        hdrs = {"Accept": "application/json"}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        phase = REC.phase
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=REQUEST_TIMEOUT)
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            raw = resp.read()
            status = resp.status
            rhdrs = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as err:
            elapsed = time.monotonic() - started
            self.close()
            # A timeout is a request that took at least REQUEST_TIMEOUT: it counts against the latency goal.
            # A refused connection never reached the server; a reset or early close may have lost a request.
            if isinstance(err, (socket.timeout, TimeoutError)):
                kind = "timeout"
            elif isinstance(err, ConnectionRefusedError):
                kind = "refused"
            else:
                kind = "reset"
            REC.record(phase, route, kind, elapsed)
            if phase != "shutdown":
                with REC.lock:
                    if len(REC.transport) < 20:
                        REC.transport.append(f"{started - REC.t0:6.1f}s +{elapsed * 1000:.0f} ms {phase} {route}: "
                                             f"{kind} {err!r}"[:200])
            return 0, {}, {}
        elapsed = time.monotonic() - started
        REC.record(phase, route, str(status), elapsed)
        if status >= 500:
            now = time.time()
            with REC.lock:
                span = REC.errors_span.setdefault(phase, [now - elapsed, now])
                span[0], span[1] = min(span[0], now - elapsed), max(span[1], now)
        if status in (429, 503) and "retry-after" not in rhdrs:
            with REC.lock:
                REC.no_retry_after[(phase, status)] += 1
        if status >= 500 and status != 503:
            with REC.lock:
                key = f"{phase} {route} {status}"
                if key not in REC.samples:
                    REC.samples[key] = [raw[:500].decode("utf-8", "replace")]
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        return status, parsed if isinstance(parsed, dict) else {}, rhdrs

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def pause_after(status: int) -> None:
    """A short pause after a refusal or a transport error, so a dead dependency is not a busy loop."""
    if status == 0 or status >= 500 or status == 429:
        STOP.wait(0.1)


def load_client(n: int, port: int, deadline: float, creds: list[tuple[str, str]]) -> None:
    """Registers one user, then loops over the task mix until STOP or the deadline."""
    c = Client(port)
    email, password = f"soak-{n}-{uuid.uuid4().hex[:8]}@example.com", "soak-password-1"
    for _ in range(200):  # registration, retried until the service answers (bounded)
        if STOP.is_set() or time.monotonic() > deadline:
            return
        st, body, _ = c.request("POST", "/auth/register", "POST /auth/register",
                                {"email": email, "password": password, "name": f"Soak {n}"})
        if st == 201:
            c.token = body["accessToken"]
            break
        if st == 409:  # registered by an earlier attempt whose answer was lost: log in
            st, body, _ = c.request("POST", "/auth/login", "POST /auth/login", {"email": email, "password": password})
            if st == 200:
                c.token = body["accessToken"]
                break
        pause_after(st)
    else:
        return
    with REC.lock:
        creds.append((email, password))
    rng = random.Random(n)
    for loop in range(MAX_LOOPS):
        if STOP.is_set() or time.monotonic() > deadline:
            break
        prio = rng.choice(["LOW", "MEDIUM", "HIGH"])
        headers = {"Idempotency-Key": uuid.uuid4().hex} if loop % 4 == 0 else None
        st, task, _ = c.request("POST", "/tasks", "POST /tasks",
                                {"title": f"soak {n}.{loop}", "description": "mixed load", "priority": prio,
                                 "dueDate": "2030-01-01T00:00:00Z"}, headers)
        if st == 401:  # token lapsed (runs longer than the access token TTL): log in again
            st2, body, _ = c.request("POST", "/auth/login", "POST /auth/login", {"email": email, "password": password})
            if st2 == 200:
                c.token = body["accessToken"]
            continue
        if st != 201:
            pause_after(st)
            continue
        tid = task["id"]
        st, task, hd = c.request("GET", f"/tasks/{tid}", "GET /tasks/{id}")
        version = task.get("version", 1) if st == 200 else 1
        st, _, _ = c.request("PATCH", f"/tasks/{tid}", "PATCH /tasks/{id}",
                             {"status": "IN_PROGRESS", "title": f"soak {n}.{loop} edited"},
                             {"If-Match": f'"{version}"'})
        query = rng.choice([
            "/tasks?status=PENDING,IN_PROGRESS&sort=priority&limit=20",
            "/tasks?priority=HIGH&order=asc&limit=10",
            "/tasks?search=edited&limit=20",
            "/tasks?cursor=&limit=50",
            "/tasks?dueAfter=2029-01-01T00:00:00Z&sort=dueDate&page=2&limit=5",
        ])
        c.request("GET", query, "GET /tasks")
        c.request("GET", "/tasks/stats", "GET /tasks/stats")
        c.request("POST", "/tasks/batch", "POST /tasks/batch",
                  {"tasks": [tid, str(uuid.uuid4())], "action": "complete"})
        if loop % 4 != 3:  # keep one task in four, so listings have rows
            st, _, _ = c.request("DELETE", f"/tasks/{tid}", "DELETE /tasks/{id}")
        pause_after(st)
    c.close()


def storm_client(n: int, port: int, until: float, creds: list[tuple[str, str]]) -> None:
    """Logs in without pause until `until`: odd rounds an unknown email, even rounds a real user."""
    c = Client(port)
    rng = random.Random(1000 + n)
    for i in range(MAX_LOOPS):
        if STOP.is_set() or time.monotonic() > until:
            break
        if i % 2 or not creds:
            body = {"email": f"nobody-{uuid.uuid4().hex[:12]}@example.com", "password": "not-a-password"}
        else:
            email, password = rng.choice(creds)
            body = {"email": email, "password": password}
        st, _, _ = c.request("POST", "/auth/login", "POST /auth/login (storm)", body)
        if st == 0:
            STOP.wait(0.05)
    c.close()


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def sampler(pid: int, series: list[tuple[float, str, int]], t0: float) -> None:
    """VmRSS of the server once a second until it exits."""
    while not STOP.is_set():
        kib = rss_kib(pid)
        if kib is None:
            return
        series.append((time.monotonic() - t0, REC.phase, kib))
        STOP.wait(1.0)


class Processes:
    """The run's private Redis, proxy and server, with their pids written for soak.sh's cleanup."""

    def __init__(self) -> None:
        self.redis_port = free_port(int(ENV.get("SOAK_REDIS_PORT", "6390")))
        self.proxy_port = free_port(int(ENV.get("SOAK_PROXY_PORT", "55432")))
        self.http_port = free_port(int(ENV.get("SOAK_HTTP_PORT", "3190")))
        self.redis: subprocess.Popen | None = None
        self.proxy: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.logs: list = []

    def log(self, name: str):
        f = open(os.path.join(RUN_DIR, name), "ab")
        self.logs.append(f)
        return f

    def write_pids(self) -> None:
        with open(os.path.join(RUN_DIR, "pids"), "w") as f:
            for p in (self.redis, self.proxy, self.server):
                if p is not None and p.poll() is None:
                    f.write(f"{p.pid}\n")

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", LOOPBACK, "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
             "--protected-mode", "yes"], stdout=self.log("redis.log"), stderr=subprocess.STDOUT)
        self.write_pids()
        if not wait_port(self.redis_port, 10):
            raise RuntimeError("private redis-server did not start")

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()  # SIGKILL: Redis vanishes without a goodbye
        self.redis.wait()

    def start_proxy(self) -> None:
        here = os.path.dirname(os.path.abspath(__file__))
        self.proxy = subprocess.Popen([sys.executable, os.path.join(here, "soak_proxy.py"), str(self.proxy_port),
                                       str(PG_PORT)], stdout=self.log("proxy.log"), stderr=subprocess.STDOUT)
        self.write_pids()
        if not wait_port(self.proxy_port, 10):
            raise RuntimeError("database proxy did not start")

    def server_env(self) -> dict[str, str]:
        env = dict(ENV)
        env.update(HOST=LOOPBACK, PORT=str(self.http_port),
                   DATABASE_URL=f"postgres://postgres@{LOOPBACK}:{self.proxy_port}/{DB_NAME}",
                   REDIS_URL=f"redis://{LOOPBACK}:{self.redis_port}", REDIS_KEY_PREFIX="soak")
        return env

    def seed(self) -> None:
        env = self.server_env()
        env["DATABASE_URL"] = f"postgres://postgres@{LOOPBACK}:{PG_PORT}/{DB_NAME}"  # direct, not through the proxy
        subprocess.run([BIN, "seed", "--tasks", ENV.get("SOAK_SEED_TASKS", "2000")], env=env, check=True,
                       stdout=self.log("seed.log"), stderr=subprocess.STDOUT, timeout=300)

    def start_server(self) -> None:
        self.server = subprocess.Popen([BIN, "serve"], env=self.server_env(), stdout=self.log("server.log"),
                                       stderr=subprocess.STDOUT)
        self.write_pids()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"taskflow serve exited at start with {self.server.returncode}")
            try:
                conn = http.client.HTTPConnection(LOOPBACK, self.http_port, timeout=2)
                conn.request("GET", "/health/ready")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("taskflow serve was not ready within 60 s")

    def stop_all(self) -> None:
        for p in (self.server, self.proxy, self.redis):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for f in self.logs:
            f.close()


def run() -> int:
    procs = Processes()
    try:
        procs.start_redis()
        procs.start_proxy()
        procs.seed()
        procs.start_server()
    except (RuntimeError, subprocess.SubprocessError, OSError) as err:
        print(f"soak: setup failed: {err}", file=sys.stderr)
        procs.stop_all()
        return 2
    assert procs.server is not None
    pid = procs.server.pid
    print(f"soak: taskflow pid {pid} on 127.0.0.1:{procs.http_port}, redis :{procs.redis_port}, "
          f"database via proxy :{procs.proxy_port} -> :{PG_PORT}/{DB_NAME}; {DURATION:.0f} s, {CLIENTS} clients",
          flush=True)

    t0 = time.monotonic()
    REC.t0 = t0
    # Clients stop by themselves at the latest GRACE + 30 s after the planned SIGTERM.
    hard_deadline = t0 + DURATION + GRACE_SECS + 30
    creds: list[tuple[str, str]] = [("user@example.com", "user123"), ("admin@example.com", "admin123")]
    series: list[tuple[float, str, int]] = []
    threads = [threading.Thread(target=sampler, args=(pid, series, t0), daemon=True)]
    threads += [threading.Thread(target=load_client, args=(i, procs.http_port, hard_deadline, creds), daemon=True)
                for i in range(CLIENTS)]
    for t in threads:
        t.start()

    events: list[str] = []

    def event(text: str) -> None:
        now = time.time()
        events.append(f"{time.monotonic() - t0:6.1f}s {time.strftime('%H:%M:%S', time.gmtime(now))}"
                      f".{int(now % 1 * 1000):03d} {text}")

    exit_code: int | None = None
    exit_secs: float | None = None
    phase_started: dict[str, float] = {}
    try:
        for frac, name in PHASES:
            at = t0 + frac * DURATION
            while time.monotonic() < at and procs.server.poll() is None:
                time.sleep(0.05)
            if procs.server.poll() is not None:
                event(f"server exited early with {procs.server.returncode}")
                break
            prev = REC.phase
            # End the fault of the phase that finishes, then begin the one of the phase that starts.
            if prev == "redis_down":
                procs.start_redis()
                event("redis-server restarted (empty)")
            if prev == "db_down":
                assert procs.proxy is not None
                procs.proxy.send_signal(signal.SIGUSR2)
                event("database link restored")
            REC.phase = name
            phase_started.setdefault(name, time.monotonic() - t0)
            if name == "redis_down":
                procs.kill_redis()
                event("redis-server SIGKILLed")
            elif name == "db_down":
                assert procs.proxy is not None
                procs.proxy.send_signal(signal.SIGUSR1)
                event("database link cut (connections dropped, new refused)")
            elif name == "login_storm":
                until = time.monotonic() + 0.1 * DURATION
                storm = [threading.Thread(target=storm_client, args=(i, procs.http_port, until, creds), daemon=True)
                         for i in range(STORM_CLIENTS)]
                for t in storm:
                    t.start()
                threads += storm
                event(f"login storm: {STORM_CLIENTS} clients")
            elif name == "shutdown":
                sent = time.monotonic()
                procs.server.send_signal(signal.SIGTERM)
                event(f"SIGTERM sent with {CLIENTS} clients still running")
                try:
                    exit_code = procs.server.wait(GRACE_SECS + 20)
                    exit_secs = time.monotonic() - sent
                except subprocess.TimeoutExpired:
                    event(f"server still alive {GRACE_SECS + 20:.0f} s after SIGTERM: SIGKILL")
                    procs.server.kill()
                    procs.server.wait()
                event(f"server exited with {exit_code} "
                      f"after {exit_secs if exit_secs is not None else float('nan'):.2f} s")
                STOP.wait(1.0)  # the load keeps knocking for a second after the exit
    finally:
        STOP.set()
        for t in threads:
            t.join(REQUEST_TIMEOUT + 5)
        procs.stop_all()

    return report(events, series, exit_code, exit_secs, phase_started)


def mib(kib: float) -> float:
    return kib / 1024


def report(events: list[str], series: list[tuple[float, str, int]], exit_code: int | None,
           exit_secs: float | None, phase_started: dict[str, float]) -> int:
    print("\nEvents (seconds from the start of the load, and UTC):")
    for e in events:
        print("  " + e)

    # Responses by phase and class.
    print("\nResponses by phase (class counts; timeout, refused and reset are transport errors, no status):")
    cols = ["2xx", "3xx", "4xx", "5xx", "timeout", "refused", "reset"]
    print(f"  {'phase':<12} {'total':>8} " + " ".join(f"{c:>8}" for c in cols)
          + f" {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for ph in PHASE_ORDER:
        codes = REC.codes.get(ph, Counter())
        if not codes:
            continue
        cls = Counter()
        for code, n in codes.items():
            cls[code if not code.isdigit() else code[0] + "xx"] += n
        lat = sorted(REC.latencies[ph])
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        print(f"  {ph:<12} {sum(codes.values()):>8} " + " ".join(f"{cls[c]:>8}" for c in cols)
              + f" {p50:>8.1f} {p99:>8.1f} {lat[-1] * 1000:>8.0f}")
    print("\nResponses by phase and status code:")
    for ph in PHASE_ORDER:
        codes = REC.codes.get(ph)
        if codes:
            print(f"  {ph:<12} " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
    print("\nSlowest responses:")
    for secs, ph, route, st in REC.slowest:
        print(f"  {secs * 1000:8.0f} ms  {st:>10}  {ph:<12} {route}")
    if REC.errors_span:
        print("\n5xx by phase, first request start and last answer (UTC, to match the server log):")
        for ph, (a, b) in REC.errors_span.items():
            fmt = lambda x: time.strftime("%H:%M:%S", time.gmtime(x)) + f".{int(x % 1 * 1000):03d}"
            print(f"  {ph:<12} {fmt(a)} .. {fmt(b)}")
    if REC.transport:
        print("\nTransport errors before SIGTERM (first 20; time from the start of the load):")
        for line in REC.transport:
            print("  " + line)
    storm = REC.route_codes.get("POST /auth/login (storm)")
    if storm:
        print("\nLogin storm logins by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(storm.items())))
    missing = ", ".join(f"{ph} {st}: {n}" for (ph, st), n in REC.no_retry_after.items()) or "none"
    print(f"429/503 without Retry-After: {missing}")
    if REC.samples:
        print("\nFirst body of each unexpected 5xx:")
        for k, v in REC.samples.items():
            print(f"  {k}: {v[0]}")

    # Memory: the series every 10 s, then the warm-up level, the level before SIGTERM and the peak.
    warm_end = 0.20 * DURATION
    sigterm_at = phase_started.get("shutdown", DURATION)
    print("\nResident memory (VmRSS, MiB), one sample every 10 s:")
    line = [f"{mib(k):.0f}" for (t, _, k) in series[::10]]
    for i in range(0, len(line), 20):
        print("  " + " ".join(line[i:i + 20]))
    warm = [k for (t, _, k) in series if warm_end - 10 <= t < warm_end]
    after = [k for (t, _, k) in series if warm_end <= t < sigterm_at]
    final = [k for (t, _, k) in series if sigterm_at - 10 <= t < sigterm_at]
    mem_ok = False
    mem_text = "no samples"
    if warm and after and final:
        w, f, lo, hi = statistics.median(warm), statistics.median(final), min(after), max(after)
        flat_limit = w + max(FLAT_RATIO * w, FLAT_MIB * 1024)
        peak_limit = w + max(PEAK_RATIO * w, PEAK_MIB * 1024)
        by_phase = defaultdict(list)
        for (t, ph, k) in series:
            if warm_end <= t < sigterm_at:
                by_phase[ph].append(k)
        print(f"  end of warm-up {mib(w):.1f}; after warm-up min {mib(lo):.1f} max {mib(hi):.1f}; "
              f"before SIGTERM {mib(f):.1f}")
        print("  max by phase after warm-up: "
              + ", ".join(f"{ph} {mib(max(v)):.1f}" for ph, v in by_phase.items()))
        pts = [(t, k) for (t, _, k) in series if warm_end <= t < sigterm_at]
        mt, mk = statistics.fmean(t for t, _ in pts), statistics.fmean(k for _, k in pts)
        var = sum((t - mt) ** 2 for t, _ in pts)
        slope = 60 * mib(sum((t - mt) * (k - mk) for t, k in pts) / var) if var else 0.0  # MiB a minute
        print(f"  trend after warm-up: {slope:+.2f} MiB/min (least squares over {len(pts)} samples)")
        mem_ok = f <= flat_limit and hi <= peak_limit and slope <= SLOPE_MIB_PER_MIN
        mem_text = (f"trend {slope:+.2f} MiB/min (limit {SLOPE_MIB_PER_MIN}); warm-up {mib(w):.0f} MiB, "
                    f"before SIGTERM {mib(f):.0f} (limit {mib(flat_limit):.0f}), peak {mib(hi):.0f} "
                    f"(limit {mib(peak_limit):.0f})")

    # Goals.
    all_codes = Counter()
    for codes in REC.codes.values():
        all_codes.update(codes)
    bad_5xx = {k: v for k, v in all_codes.items() if k.isdigit() and k[0] == "5" and k != "503"}
    slow_limit = STATEMENT_MS / 1000 + 1
    slowest = REC.slowest[0] if REC.slowest else (0.0, "", "", "")
    goals = [
        ("no 500 (nor any 5xx but 503)", not bad_5xx, ", ".join(f"{k}: {v}" for k, v in bad_5xx.items()) or "none"),
        (f"no response slower than {slow_limit:.1f} s", slowest[0] <= slow_limit,
         f"slowest {slowest[0] * 1000:.0f} ms ({slowest[3]}, {slowest[1]}, {slowest[2]})"),
        ("memory flat after warm-up", mem_ok, mem_text),
        ("every 429/503 has Retry-After", not REC.no_retry_after, missing),
        (f"exit 0 within {GRACE_SECS:.0f} s of SIGTERM", exit_code == 0 and exit_secs is not None
         and exit_secs <= GRACE_SECS,
         f"exit code {exit_code}, {exit_secs:.2f} s" if exit_secs is not None else f"exit code {exit_code}"),
    ]
    print("\nGoals:")
    print(f"  {'goal':<36} {'result':<6} figure")
    for name, ok, fig in goals:
        print(f"  {name:<36} {'met' if ok else 'MISSED':<6} {fig}")
    with open(os.path.join(RUN_DIR, "result.json"), "w") as f:
        json.dump({"duration": DURATION, "clients": CLIENTS, "codes": REC.codes, "route_codes": REC.route_codes, "events": events,
                   "slowest": REC.slowest, "rss_kib": series, "exit_code": exit_code, "exit_secs": exit_secs,
                   "goals": [{"goal": n, "met": ok, "figure": fig} for n, ok, fig in goals]}, f, indent=1)
    return 0 if all(ok for _, ok, _ in goals) else 1


if __name__ == "__main__":
    sys.exit(run())
