#!/usr/bin/env python3
"""Helpers of bench/limit.sh (issue 11, side by side with the limit): Python standard library only.

The seeded data is laid out so that a pgbench script and a wrk Lua script can name the same rows without a lookup:
task g (1..100,000) has the id 00000000-0000-7000-8000-<100000000000 + g> and belongs to user g % 100, whose id is
00000000-0000-7000-8000-<200000000000 + u> (decimal digits are hex digits). User u's completed tasks are
g = u + 100 k with k = k0 + 3 j, k0 = (2 - u) mod 3, j = 0..332 (status cycles on g % 3, 100 = 1 mod 3).

Subcommands:
  login    --port P --users N --password X --out FILE
           logs in bench-<u>@example.com for u = 0..N-1 (a few at a time) and writes one access token per line.
  capture  --log PGLOG --db DB --port P --token T --method M --path PATH [--body JSON] --out FILE [--samples 3]
           sends the request once to warm up (statements are prepared once per connection), then --samples times,
           each time reading what PostgreSQL's own log gained meanwhile (log_statement = 'all' on DB): the statements
           of DB's backends with their parameters (the DETAIL lines). Keeps the sample with the fewest statements, so
           that a background statement cannot be counted against the request, and writes it as JSON.
  show     CAPTURE...    prints each capture's statements and its round trips.
  script   --capture FILE --kind get|list|create|batch --u U [--g G] [--s S] --out FILE
           turns a capture into a pgbench script (pgbench -M prepared): the values that identify the request's rows
           become expressions over \\set random variables (so every transaction touches other rows, as the HTTP load
           does), fresh ids become time-ordered random ids, every other parameter stays the captured constant.
  table    --results TSV --captures DIR --secs S --rounds R [--insert TSV]
           prints the final table: medians, ratios, latency, peak RSS, round trips, with the goals of the issue.
"""

import argparse
import concurrent.futures
import json
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request

ID_PREFIX = "00000000-0000-7000-8000-"
TASK_BASE = 100_000_000_000
USER_BASE = 200_000_000_000


def task_id(g):
    return f"{ID_PREFIX}{TASK_BASE + g}"


def user_id(u):
    return f"{ID_PREFIX}{USER_BASE + u}"


def completed_ids(u, s, n=100):
    """The n completed tasks of user u from the s-th on (see the module's doc)."""
    k0 = (2 - u % 3) % 3
    return [task_id(u + 100 * (k0 + 3 * j)) for j in range(s, s + n)]


# --- HTTP ---------------------------------------------------------------------------------------------------------

def http(port, method, path, token=None, body=None, timeout=30):
    data = None if body is None else body.encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cmd_login(a):
    def one(u):
        body = json.dumps({"email": f"bench-{u}@example.com", "password": a.password})
        status, out = http(a.port, "POST", "/auth/login", body=body)
        if status != 200:
            raise SystemExit(f"login of bench-{u}: {status} {out[:200]!r}")
        return json.loads(out)["accessToken"]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(one, range(a.users)))
    with open(a.out, "w") as f:
        f.write("\n".join(tokens) + "\n")


# --- PostgreSQL's log ---------------------------------------------------------------------------------------------

# log_line_prefix '%m [%p] %q%u@%d ' (Debian's default): "2026-11-30 09:55:00.123 UTC [1234] postgres@db LOG:  ..."
ENTRY = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(\d+)\] (\S*)@(\S*) ([A-Z]+):  (.*)$")
PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')(?:, |$)", re.S)


def log_entries(text, db):
    """(pid, level, message) of DB's log entries in text; continuation lines (tab-led) are joined to theirs."""
    entries = []
    for line in text.split("\n"):
        m = ENTRY.match(line)
        if m:
            entries.append([m.group(4), int(m.group(2)), m.group(5), m.group(6)])
        elif entries and line.startswith("\t"):
            entries[-1][3] += "\n" + line[1:]
    return [(pid, level, msg) for d, pid, level, msg in entries if d == db]


# Statements of the instance's background jobs, which may fall in a request's window: the live-event hub reads the
# feed's head and what was published (every second, and on every NOTIFY, so after each create), the revocation list
# is refreshed, and the waker sends the relays' wake-up after a create, update, delete or batch (one at a time, at most
# one per 2 ms per instance however many commits it covers; the request does not wait for it: crates/adapters-postgres
# src/wake.rs). They are shown apart and neither counted nor put in a pgbench script.
BACKGROUND = [
    (re.compile(r"^\s*SELECT pg_notify\('taskflow_work', ''\)\s*$"), "relays' wake-up (after the commit, coalesced)"),
    (re.compile(r"^\s*SELECT coalesce\(max\(stream_pos\), 0\) AS head FROM outbox_events"), "live-event hub: feed head"),
    (re.compile(r"^\s*SELECT stream_pos, .* FROM outbox_events WHERE", re.S), "live-event hub: published events"),
    (re.compile(r"^\s*SELECT user_id, deleted_at FROM user_tombstones WHERE"), "revocation refresh"),
]


def background(sql):
    return next((what for pattern, what in BACKGROUND if pattern.search(sql)), None)


def statements(text, db):
    """The statements DB's backends ran, in order: {pid, kind, name, sql, params}."""
    out = []
    for pid, level, msg in log_entries(text, db):
        if level == "LOG":
            m = re.match(r"execute (\S+?): (.*)$", msg, re.S)
            if m:
                out.append({"pid": pid, "kind": "execute", "name": m.group(1), "sql": m.group(2), "params": {}})
                continue
            m = re.match(r"statement: (.*)$", msg, re.S)
            if m:
                out.append({"pid": pid, "kind": "simple", "name": "", "sql": m.group(1), "params": {}})
        elif level == "DETAIL" and msg.startswith("parameters: "):
            # The parameters of the last statement of the same backend.
            for s in reversed(out):
                if s["pid"] == pid:
                    body = msg[len("parameters: "):]
                    for n, v in PARAM.findall(body):
                        s["params"][n] = None if v == "NULL" else v[1:-1].replace("''", "'")
                    break
    return out


def read_from(path, offset):
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(offset if offset <= size else 0)  # rotated or truncated: read it all
        return f.read().decode("utf-8", "replace")


def cmd_capture(a):
    def send():
        status, out = http(a.port, a.method, a.path, a.token, a.body)
        if status >= 300:
            raise SystemExit(f"capture {a.name}: {a.method} {a.path} answered {status}: {out[:300]!r}")

    send()
    time.sleep(0.3)
    best = None
    counts = []
    for _ in range(a.samples):
        offset = os.path.getsize(a.log)
        send()
        time.sleep(0.4)  # the pool's release check and the log writes come after the answer
        seen = statements(read_from(a.log, offset), a.db)
        sts = [s for s in seen if not background(s["sql"])]
        counts.append(len(sts))
        if best is None or len(sts) < len(best):
            best, aside = sts, [s for s in seen if background(s["sql"])]
    if not best:
        raise SystemExit(f"capture {a.name}: no statement of {a.db} in {a.log}: is log_statement = 'all' on it?")
    capture = {"name": a.name, "method": a.method, "path": a.path, "samples": counts, "statements": best,
               "connections": len({s["pid"] for s in best}),
               "background": [{"what": background(s["sql"]), "pid": s["pid"]} for s in aside]}
    with open(a.out, "w") as f:
        json.dump(capture, f, indent=1)


def round_trips(c):
    """Statements, and sqlx's check of each transaction's connection when it is given back (single statements run
    on connections held out of sqlx's pool, given back without one: crates/adapters-postgres/src/held.rs)."""
    sts = c["statements"]
    checks = sum(1 for s in sts if s["sql"].strip().upper().startswith("BEGIN"))
    return len(sts), checks, len(sts) + checks


def short(v, n=90):
    if v is None:
        return "NULL"
    v = v.replace("\n", " ")
    return repr(v if len(v) <= n else v[:n] + f"... ({len(v)} chars)")


def cmd_show(a):
    for path in a.captures:
        with open(path) as f:
            c = json.load(f)
        n, conns, total = round_trips(c)
        print(f"--- {c['method']} {c['path'][:100]}: {n} statement(s) + {conns} pool check(s) = {total} round trips"
              f" (statements in each sample: {c['samples']})")
        for i, s in enumerate(c["statements"], 1):
            sql = re.sub(r"\s+", " ", s["sql"]).strip()
            print(f"  {i}. [{s['kind']}] {sql}")
            if s["params"]:
                ps = ", ".join(f"${k} = {short(v)}" for k, v in sorted(s["params"].items(), key=lambda kv: int(kv[0])))
                print(f"     parameters: {ps}")
        if c.get("background"):
            print("  also in the window, from background jobs (not counted): "
                  + ", ".join(b["what"] for b in c["background"]))


# --- pgbench scripts ----------------------------------------------------------------------------------------------

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID_ARRAY = re.compile(r"^\{([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},?)*\}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:?\d\d)?|Z)?$")
INTEGER = re.compile(r"^-?\d{1,18}$")


def literal(v):
    """A SQL constant for a captured parameter value. pgbench -M prepared takes every ':name' in the text for a
    variable, quotes or not, so colons are written as E'\\x3a'."""
    if v is None:
        return "NULL"
    quoted = v.replace("\\", "\\\\").replace("'", "''")
    if ":" in quoted or "\\" in quoted:
        return "E'" + quoted.replace(":", "\\x3a") + "'"
    return "'" + quoted + "'"


def typed(v):
    if v is None:
        return "NULL"
    if UUID.match(v):
        return f"{literal(v)}::uuid"
    if UUID_ARRAY.match(v):
        return f"{literal(v)}::uuid[]"
    if TIMESTAMP.match(v):
        return f"{literal(v)}::timestamptz"
    if INTEGER.match(v):
        return f"{literal(v)}::bigint"
    if v in ("t", "f"):
        return f"{literal(v)}::boolean"
    if v.startswith("{\"") or v.startswith("[{"):
        return f"{literal(v)}::jsonb"
    return f"{literal(v)}::text"


def fresh_id(var):
    """A time-ordered id (the transaction's start in microseconds, then 64 random bits), like the v7 ids TaskFlow
    makes: the primary key grows at one end, as under the HTTP load."""
    return (f"(lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 16, '0')"
            f" || lpad(to_hex(:{var}::bigint), 16, '0'))::uuid")


def cmd_script(a):
    with open(a.capture) as f:
        c = json.load(f)
    sets = []  # pgbench meta-commands
    known = {}  # captured value -> expression
    if a.kind == "get":
        sets += ["\\set g random(1, 100000)", f"\\set tid {TASK_BASE} + :g", f"\\set uid {USER_BASE} + :g % 100"]
        known[task_id(a.g)] = f"('{ID_PREFIX}' || :tid::text)::uuid"
        known[user_id(a.g % 100)] = f"('{ID_PREFIX}' || :uid::text)::uuid"
    else:
        sets += ["\\set u random(0, 99)", f"\\set uid {USER_BASE} + :u"]
        known[user_id(a.u)] = f"('{ID_PREFIX}' || :uid::text)::uuid"
    batch = None
    if a.kind == "batch":
        sets += ["\\set s random(0, 233)", "\\set k0 (2 - :u % 3 + 3) % 3"]
        batch = set(completed_ids(a.u, a.s))
        batch_expr = (f"ARRAY(SELECT ('{ID_PREFIX}' || ({TASK_BASE} + :u::bigint + 100 * (:k0::bigint + 3 * j))::text)::uuid"
                      f" FROM generate_series(:s::int, :s::int + 99) AS j)")
    fresh = {}
    lines = [f"-- {c['method']} {c['path'][:120]}: captured from PostgreSQL's log by bench/limit.sh", *sets]
    body = []
    for s in c["statements"]:
        if s["kind"] == "simple" or not s["params"]:
            body.append(s["sql"].strip().rstrip(";") + ";")
            continue
        values = {}
        for n, v in s["params"].items():
            if v in known:
                values[n] = known[v]
            elif batch is not None and v and UUID_ARRAY.match(v) and set(v[1:-1].split(",")) == batch:
                values[n] = batch_expr
            elif v and UUID.match(v):
                if v not in fresh:
                    fresh[v] = f"n{len(fresh) + 1}"
                values[n] = fresh_id(fresh[v])
            else:
                values[n] = typed(v)
        sql = re.sub(r"\$(\d+)\b", lambda m: values[m.group(1)], s["sql"].strip().rstrip(";"))
        body.append(sql + ";")
    lines += [f"\\set {var} random(0, 9223372036854775806)" for var in fresh.values()]
    lines += body
    text = "\n".join(lines) + "\n"
    # Every ':name' outside the meta-commands must be one of ours (the rest would be undefined pgbench variables).
    ours = {"g", "tid", "uid", "u", "s", "k0", *fresh.values()}
    stray = {m for sql in body for m in re.findall(r"(?<!:):([A-Za-z0-9_]+)", sql)} - ours
    if stray:
        raise SystemExit(f"script {a.capture}: unexpected pgbench variables {sorted(stray)}")
    with open(a.out, "w") as f:
        f.write(text)
    # pg_notify serialises every notifying commit of the server (a global lock held from before the commit record
    # until after its WAL flush): the same script without it shows what that lock costs.
    if a.nonotify_out and "pg_notify(" in text:
        with open(a.nonotify_out, "w") as f:
            f.write(re.sub(r"pg_notify\([^()]*\)", "NULL", text))
    unknown = [v for v in fresh if v not in known]
    print(f"{a.out}: {len(c['statements'])} statement(s); fresh ids: {len(unknown)}")


# --- the table ----------------------------------------------------------------------------------------------------

NAMES = {
    "get": "GET /tasks/:id",
    "offset": "GET /tasks?status=PENDING&page=1&limit=20",
    "keyset": "GET /tasks?status=PENDING&limit=20&cursor=",
    "create": "POST /tasks",
    "batch": "POST /tasks/batch (100 ids, complete)",
}
GOALS = {"get": 0.55, "offset": 0.75, "create": 0.80, "batch": 0.80}  # of the limit, PostgreSQL only
BUDGETS = {"get": 1, "keyset": 1, "offset": 1, "create": 1, "batch": 4}  # round_trips.rs: statements + pool checks


def med(xs):
    return statistics.median(xs) if xs else None


def fmt_rate(x):
    return "-" if x is None else f"{x:,.0f}"


def pct(a, b):
    return "-" if a is None or not b else f"{a / b:.0%}"


def cmd_table(a):
    runs = {}  # (request, variant) -> [row]
    with open(a.results) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 4:
                continue
            req, variant, rnd, rps = p[0], p[1], int(p[2]), float(p[3])
            extra = dict(kv.split("=", 1) for kv in p[4:] if "=" in kv)
            runs.setdefault((req, variant), []).append({"round": rnd, "rps": rps, **extra})

    def m(req, variant, key="rps"):
        vals = [float(r[key]) for r in runs.get((req, variant), []) if r.get(key) not in (None, "", "-")]
        return med(vals)

    def peak(req, variant):
        vals = [float(r["hwm_kib"]) for r in runs.get((req, variant), []) if r.get("hwm_kib")]
        return max(vals) / 1024 if vals else None

    reqs = [r for r in NAMES if (r, "limit") in runs]
    head = ["request", "round trips", "limit req/s", "TaskFlow req/s", "ratio", "goal",
            "TaskFlow+Redis req/s", "ratio", "p50/p99 ms (TF | TF+Redis)", "peak RSS MiB (TF | +Redis)", "Redis hits"]
    rows = []
    notes = []
    for req in reqs:
        lim, tf, tfr = m(req, "limit"), m(req, "taskflow"), m(req, "redis")
        cap = os.path.join(a.captures, f"{req}.json")
        rt = "-"
        if os.path.exists(cap):
            with open(cap) as f:
                n, conns, total = round_trips(json.load(f))
            budget = BUDGETS.get(req)
            rt = f"{n}+{conns}={total}" + (f" (≤{budget}{'' if total <= budget else ' OVER'})" if budget else "")
        goal = GOALS.get(req)
        goal_s = "-" if goal is None else f"≥{goal:.0%} " + ("met" if tf and lim and tf / lim >= goal else "NO")
        if goal is not None and m(req, "nonotify"):
            goal_s += "*"  # against a limit that pg_notify's lock sets: see the note
        lat = (f"{m(req, 'taskflow', 'p50') or 0:.1f}/{m(req, 'taskflow', 'p99') or 0:.1f} | "
               f"{m(req, 'redis', 'p50') or 0:.1f}/{m(req, 'redis', 'p99') or 0:.1f}") if tf else "-"
        pk_tf, pk_r = peak(req, "taskflow"), peak(req, "redis")
        mem = f"{pk_tf or 0:.1f} | {pk_r or 0:.1f}"
        hits = m(req, "redis", "hit_rate")
        rows.append([NAMES[req], rt, fmt_rate(lim), fmt_rate(tf), pct(tf, lim), goal_s, fmt_rate(tfr), pct(tfr, lim),
                     lat, mem, "-" if hits is None else f"{hits:.0%}"])
        nn = m(req, "nonotify")
        if nn:
            notes.append(f"* {NAMES[req]}: its statement calls pg_notify, whose lock serialises every notifying "
                         f"commit of the server; the same SQL without it: {fmt_rate(nn)}/s (×{nn / lim:.1f} the "
                         f"limit with it), TaskFlow at {pct(tf, nn)} of that")
        if tf and tfr is not None and tfr < tf:
            notes.append(f"{NAMES[req]}: Redis on is {1 - tfr / tf:.0%} slower than off (goal: no route slower)")
        errs = [f"{v} {r.get('non2xx')}" for v in ("taskflow", "redis") for r in runs.get((req, v), [])
                if r.get("non2xx") not in (None, "0")]
        if errs:
            notes.append(f"{NAMES[req]}: non-2xx answers (not counted in req/s): {', '.join(errs)}")
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    print()
    print(f"Side by side with the limit: medians of {a.rounds} round(s) of {a.secs} s, 32 connections each; "
          "ratios against the limit measured in the same rounds")
    for r in [head, ["-" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print("round trips: logged statements (BEGIN/COMMIT included) + one pool check per transaction (sqlx checks every "
          "connection given back to its pool; not in the log; single statements use held connections, which skip it); "
          "budgets of issue 11 / crates/bootstrap/tests/round_trips.rs")
    print("per-run figures: " + "; ".join(
        f"{req} {v} " + "/".join(fmt_rate(r['rps']) for r in sorted(runs[(req, v)], key=lambda r: r['round']))
        for req in reqs for v in ("limit", "nonotify", "taskflow", "redis") if (req, v) in runs))
    all_peak = max([p for req in reqs for p in [peak(req, "taskflow")] if p] or [0])
    if all_peak:
        print(f"peak resident memory of the PostgreSQL-only instance under load: {all_peak:.1f} MiB "
              f"(goal ≤ 64 MiB: {'met' if all_peak <= 64 else 'NO'})")
    redis_ok = all(not (m(r, "taskflow") and m(r, "redis") is not None and m(r, "redis") < m(r, "taskflow"))
                   for r in reqs)
    if any((r, "redis") in runs for r in reqs):
        print(f"with Redis on, no route slower than without it: {'met' if redis_ok else 'NO'}")
    for n in notes:
        print("  " + n)
    if a.insert and os.path.exists(a.insert):
        ins = {}
        with open(a.insert) as f:
            for line in f:
                p = line.split("\t")
                ins.setdefault(p[0], []).append(float(p[2]))
        s, b = med(ins.get("schema", [])), med(ins.get("bare", []))
        if s and b:
            print(f"insert limit (pgbench, one INSERT per transaction): TaskFlow's tasks table {s:,.0f}/s, bare table "
                  f"(same columns, no index, no constraint) {b:,.0f}/s: {s / b:.0%} (goal ≥ 60 %: "
                  f"{'met' if s / b >= 0.6 else 'NO'}); runs schema {'/'.join(f'{x:,.0f}' for x in ins['schema'])}, "
                  f"bare {'/'.join(f'{x:,.0f}' for x in ins['bare'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("login")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("capture")
    for k in ("log", "db", "token", "method", "path", "out", "name"):
        p.add_argument(f"--{k}", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--body")
    p.add_argument("--samples", type=int, default=3)
    p = sub.add_parser("show")
    p.add_argument("captures", nargs="+")
    p = sub.add_parser("script")
    p.add_argument("--capture", required=True)
    p.add_argument("--kind", choices=["get", "list", "create", "batch"], required=True)
    p.add_argument("--u", type=int, default=0)
    p.add_argument("--g", type=int, default=1)
    p.add_argument("--s", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--nonotify-out")
    p = sub.add_parser("ids")  # for the shell: the capture's batch body
    p.add_argument("--u", type=int, required=True)
    p.add_argument("--s", type=int, default=0)
    p = sub.add_parser("table")
    p.add_argument("--results", required=True)
    p.add_argument("--captures", required=True)
    p.add_argument("--insert")
    p.add_argument("--secs", required=True)
    p.add_argument("--rounds", required=True)
    a = ap.parse_args()
    if a.cmd == "ids":
        print(json.dumps({"action": "complete", "tasks": completed_ids(a.u, a.s)}))
        return
    {"login": cmd_login, "capture": cmd_capture, "show": cmd_show, "script": cmd_script, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
