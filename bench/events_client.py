#!/usr/bin/env python3
"""Clients of GET /events (server-sent events) for bench/events.sh: Python standard library only.

Three subcommands, each printing JSON lines of figures on stdout:

  users   --port P --count N --prefix X --out FILE
          registers N users (X-<i>@example.com) through POST /auth/register, a few at a time, and writes
          [{"id", "token"}, ...] to FILE.
  streams --port P --users FILE --streams S [--expect FILE] [--drain SECS]
          opens S streams in one asyncio process, stream j as user j mod N (raw HTTP/1.1 over asyncio Protocols,
          chunked bodies decoded, SSE frames parsed), and prints {"phase": "open", ...} once every stream has its
          response headers (or failed). Then:
          - with --expect: waits for FILE (written by `write`: the tasks it created and their owners), then until
            every expected event (each task's event on every stream of its owner) has arrived or --drain seconds
            have passed since FILE appeared, and prints {"phase": "latency", ...}: count received and expected,
            latency = read time - the event's occurredAt (same host clock) in ms, p50/p90/p99/max; then exits;
          - without: holds the streams, and on SIGTERM or SIGINT prints {"phase": "end", ...} (frames, events,
            comments, streams that ended, reconnects, client CPU) and exits.
          A stream the server ends is opened again after --reconnect-delay with Last-Event-ID (the contract's
          resume), and counted.
  write   --port P --users FILE --rate R --seconds T --out FILE
          POST /tasks at a steady R/s for T s, round robin over the users (keep-alive http.client connections,
          one per thread); writes {"tasks": {taskId: userIndex}} to FILE (atomically) and prints the figures:
          statuses, achieved rate, send lateness against the schedule, response times.

Usage: see bench/events.sh.
"""

import argparse
import asyncio
import http.client
import json
import os
import resource
import signal
import sys
import threading
import time
from datetime import datetime


def pct(values, p):
    """The p-th percentile (nearest rank) of values already sorted, or None."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(record):
    print(json.dumps(record), flush=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- users -------------------------------------------------------------------------------------------------------

def cmd_users(args):
    tokens = [None] * args.count
    errors = []
    lock = threading.Lock()
    next_index = [0]

    def run():
        conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
        while True:
            with lock:
                i = next_index[0]
                if i >= args.count:
                    break
                next_index[0] += 1
            body = json.dumps({"email": f"{args.prefix}-{i}@example.com", "password": "bench-password-1",
                               "name": f"Events bench {i}"})
            try:
                conn.request("POST", "/auth/register", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                if response.status != 201:
                    raise RuntimeError(f"register {i}: {response.status} {data[:200]!r}")
                parsed = json.loads(data)
                tokens[i] = {"id": parsed["user"]["id"], "token": parsed["accessToken"]}
            except (OSError, http.client.HTTPException, RuntimeError, ValueError, KeyError) as err:
                conn.close()
                conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
                with lock:
                    errors.append(repr(err))
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        emit({"users": sum(t is not None for t in tokens), "errors": errors[:5]})
        sys.exit(1)
    with open(args.out + ".tmp", "w") as f:
        json.dump(tokens, f)
    os.replace(args.out + ".tmp", args.out)
    emit({"users": len(tokens), "seconds": round(time.monotonic() - start, 2)})


# --- streams -----------------------------------------------------------------------------------------------------

class Figures:
    """What every stream of this process saw."""

    def __init__(self, track):
        self.track = track  # parse each event's data (latency); otherwise only count frames
        self.frames = 0
        self.events = 0
        self.comments = 0
        self.ended = 0  # streams the server ended (or that broke) after their headers
        self.reconnects = 0
        self.failed = []  # (stream, reason) of streams that never got a 200
        self.received = []  # (stream, taskId, latency seconds, event id) when tracking
        self.bytes = 0


class Stream(asyncio.Protocol):
    """One GET /events: response head, then a chunked (or raw) body of SSE frames."""

    def __init__(self, index, host, port, token, figures, opened, last_id=None):
        self.index, self.host, self.port, self.token = index, host, port, token
        self.figures, self.opened = figures, opened  # opened: a Future resolved with None or a failure reason
        self.last_id = last_id
        self.head = b""
        self.headers_done = False
        self.chunked = False
        self.raw = b""  # body bytes not yet de-chunked
        self.chunk_left = 0  # bytes left in the current chunk (then its CRLF)
        self.in_chunk_crlf = False
        self.sse = b""  # decoded body not yet split into frames
        self.transport = None
        self.closed_by_us = False
        self.comments = 0  # comment-only frames (keep-alives) on this connection
        self.last_at = None  # when the headers or the last frame came
        self.max_gap = 0.0  # the longest silence so far, seconds

    def connection_made(self, transport):
        self.transport = transport
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id else ""
        transport.write((f"GET /events HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                         f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n"
                         f"Cache-Control: no-cache\r\n{resume}\r\n").encode())

    def data_received(self, data):
        now = time.time()
        self.figures.bytes += len(data)
        if not self.headers_done:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > 65536:
                    self.fail("response head too large")
                return
            head, data = self.head[:end].decode("latin-1"), self.head[end + 4:]
            self.head = b""
            status_line, *lines = head.split("\r\n")
            parts = status_line.split(" ", 2)
            status = parts[1] if len(parts) > 1 else "?"
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
            if status != "200":
                self.fail(f"status {status}")
                return
            if not fields.get("content-type", "").startswith("text/event-stream"):
                self.fail(f"content-type {fields.get('content-type')!r}")
                return
            self.chunked = "chunked" in fields.get("transfer-encoding", "").lower()
            self.headers_done = True
            self.last_at = now
            if not self.opened.done():
                self.opened.set_result(None)
            if not data:
                return
        if self.chunked:
            self.raw += data
            self.dechunk()
        else:
            self.sse += data
        self.frames_from(now)

    def dechunk(self):
        raw, out = self.raw, []
        pos = 0
        while pos < len(raw):
            if self.in_chunk_crlf:
                if len(raw) - pos < 2:
                    break
                pos += 2
                self.in_chunk_crlf = False
            elif self.chunk_left > 0:
                take = min(self.chunk_left, len(raw) - pos)
                out.append(raw[pos:pos + take])
                pos += take
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.in_chunk_crlf = True
            else:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(raw[pos:eol].split(b";", 1)[0], 16)
                pos = eol + 2
                if size == 0:  # last chunk: the server ended the stream
                    self.transport.close()
                    break
                self.chunk_left = size
        self.raw = raw[pos:]
        self.sse += b"".join(out)

    def frames_from(self, now):
        buf = self.sse.replace(b"\r\n", b"\n")
        *frames, self.sse = buf.split(b"\n\n")
        figures = self.figures
        for frame in frames:
            if not frame:
                continue
            figures.frames += 1
            self.max_gap = max(self.max_gap, now - self.last_at)
            self.last_at = now
            event_id = data = None
            for line in frame.split(b"\n"):
                if line.startswith(b":"):
                    continue
                name, _, value = line.partition(b":")
                if value.startswith(b" "):
                    value = value[1:]
                if name == b"id":
                    event_id = value
                elif name == b"data":
                    data = value if data is None else data + b"\n" + value
            if data is None:
                figures.comments += 1
                self.comments += 1
                continue
            figures.events += 1
            if event_id is not None:
                self.last_id = event_id.decode()
            if figures.track:
                event = json.loads(data)
                occurred = datetime.fromisoformat(event["occurredAt"]).timestamp()
                figures.received.append((self.index, event["taskId"], now - occurred, event["id"]))

    def fail(self, reason):
        if not self.opened.done():
            self.opened.set_result(reason)
        self.closed_by_us = True
        self.transport.close()

    def connection_lost(self, exc):
        if not self.opened.done():
            self.opened.set_result(f"closed before the headers: {exc!r}")
        elif self.headers_done and not self.closed_by_us:
            self.figures.ended += 1
            self.ended_at = asyncio.get_running_loop().time()


async def open_stream(loop, args, index, token, figures, last_id=None):
    """Opens stream `index`; returns (protocol, None) or (None, reason)."""
    opened = loop.create_future()
    for attempt in range(3):
        try:
            _, protocol = await asyncio.wait_for(loop.create_connection(
                lambda: Stream(index, args.host, args.port, token, figures, opened, last_id),
                args.host, args.port), timeout=30)
            reason = await asyncio.wait_for(opened, timeout=60)
            return (protocol, None) if reason is None else (None, reason)
        except (OSError, asyncio.TimeoutError) as err:
            if attempt == 2:
                return None, repr(err)
            opened = loop.create_future()
            await asyncio.sleep(0.5 * (attempt + 1))
    return None, "unreachable"


async def cmd_streams_async(args):
    loop = asyncio.get_running_loop()
    with open(args.users) as f:
        users = json.load(f)
    figures = Figures(track=args.expect is not None)
    nofile = raise_nofile()
    streams = [None] * args.streams
    owner = [j % len(users) for j in range(args.streams)]
    gate = asyncio.Semaphore(args.connect_concurrency)
    start = time.monotonic()

    async def open_one(j):
        async with gate:
            protocol, reason = await open_stream(loop, args, j, users[owner[j]]["token"], figures)
        if protocol is None:
            figures.failed.append((j, reason))
        streams[j] = protocol

    await asyncio.gather(*(open_one(j) for j in range(args.streams)))
    open_count = sum(s is not None for s in streams)
    reasons = {}
    for _, reason in figures.failed:
        reasons[reason] = reasons.get(reason, 0) + 1
    opened_at, cpu_at_open = time.monotonic(), cpu_seconds()
    emit({"phase": "open", "open": open_count, "failed": len(figures.failed), "reasons": reasons,
          "seconds": round(time.monotonic() - start, 2), "nofile": nofile, "cpu_s": round(cpu_seconds(), 2)})

    async def keep_open():
        """Reopens, with Last-Event-ID, the streams the server ended."""
        while True:
            await asyncio.sleep(0.2)
            for j, stream in enumerate(streams):
                if stream is None or stream.transport is None or not stream.transport.is_closing():
                    continue
                if stream.closed_by_us or loop.time() - getattr(stream, "ended_at", 0) < args.reconnect_delay:
                    continue
                streams[j] = None
                figures.reconnects += 1

                async def reopen(j=j, last_id=stream.last_id):
                    protocol, _ = await open_stream(loop, args, j, users[owner[j]]["token"], figures, last_id)
                    streams[j] = protocol
                loop.create_task(reopen())

    keeper = loop.create_task(keep_open())

    if args.expect is not None:
        while not os.path.exists(args.expect):
            await asyncio.sleep(0.1)
        seen_at = time.monotonic()
        with open(args.expect) as f:
            tasks = json.load(f)["tasks"]  # taskId -> owner's index in users
        per_user = [0] * len(users)
        for j in range(args.streams):
            per_user[owner[j]] += 1
        expected = sum(per_user[u] for u in tasks.values())

        def tally():
            seen = set()
            latencies, duplicates, foreign = [], 0, 0
            for stream, task, latency, _ in figures.received:
                if task not in tasks:
                    foreign += 1
                elif (stream, task) in seen:
                    duplicates += 1
                else:
                    seen.add((stream, task))
                    latencies.append(latency)
            return latencies, duplicates, foreign

        while True:
            latencies, duplicates, foreign = tally()
            if len(latencies) >= expected or time.monotonic() - seen_at > args.drain:
                break
            await asyncio.sleep(0.2)
        latencies.sort()
        wall = time.monotonic() - start
        ms = lambda v: None if v is None else round(1000 * v, 1)
        emit({"phase": "latency", "received": len(latencies), "expected": expected, "tasks": len(tasks),
              "duplicates": duplicates, "foreign": foreign, "ended": figures.ended, "reconnects": figures.reconnects,
              "latency_ms": {"p50": ms(pct(latencies, 50)), "p90": ms(pct(latencies, 90)),
                             "p99": ms(pct(latencies, 99)), "max": ms(latencies[-1] if latencies else None),
                             "min": ms(latencies[0] if latencies else None)},
              "waited_after_writer_s": round(time.monotonic() - seen_at, 2),
              "cpu_s": round(cpu_seconds(), 2), "wall_s": round(wall, 2),
              "cpu_since_open": round((cpu_seconds() - cpu_at_open) / max(time.monotonic() - opened_at, 1e-9), 3)})
    else:
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        held_from, cpu_from = time.monotonic(), cpu_seconds()
        await stop
        held = time.monotonic() - held_from
        stopped = time.time()
        gaps = [max(s.max_gap, stopped - s.last_at) for s in streams if s is not None and s.last_at is not None]
        emit({"phase": "end", "frames": figures.frames, "events": figures.events, "comments": figures.comments,
              "ended": figures.ended, "reconnects": figures.reconnects,
              "open_now": sum(s is not None and s.transport is not None and not s.transport.is_closing()
                              for s in streams),
              "with_comment": sum(s is not None and s.comments > 0 for s in streams),
              "max_silence_s": round(max(gaps), 2) if gaps else None,
              "silent_over_16s": sum(g > 16 for g in gaps),
              "held_s": round(held, 2), "cpu_while_held": round((cpu_seconds() - cpu_from) / max(held, 1e-9), 3)})
    keeper.cancel()
    for stream in streams:
        if stream is not None and stream.transport is not None:
            stream.closed_by_us = True
            stream.transport.close()


def cmd_streams(args):
    asyncio.run(cmd_streams_async(args))


# --- write -------------------------------------------------------------------------------------------------------

def cmd_write(args):
    with open(args.users) as f:
        users = json.load(f)
    total = int(args.rate * args.seconds)
    lock = threading.Lock()
    next_index = [0]
    statuses, latencies, lateness, errors = {}, [], [], []
    tasks = {}
    start = time.monotonic() + 0.2

    def take():
        with lock:
            i = next_index[0]
            if i >= total:
                return None
            next_index[0] = i + 1
            return i

    def run():
        conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
        mine_status, mine_latency, mine_late, mine_tasks = {}, [], [], {}
        while (i := take()) is not None:
            due = start + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            mine_late.append(time.monotonic() - due)
            user = i % len(users)
            body = json.dumps({"title": f"events bench task {i}", "description": "Created by bench/events_client.py.",
                               "priority": "MEDIUM"})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {users[user]['token']}"}
            sent = time.monotonic()
            try:
                conn.request("POST", "/tasks", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if status == 201:
                    mine_tasks[json.loads(data)["id"]] = user
            except (OSError, http.client.HTTPException, ValueError, KeyError) as err:
                conn.close()
                conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
                status = type(err).__name__
                if len(errors) < 5:
                    errors.append(repr(err))
            mine_latency.append(time.monotonic() - sent)
            mine_status[status] = mine_status.get(status, 0) + 1
        conn.close()
        with lock:
            for key, value in mine_status.items():
                statuses[str(key)] = statuses.get(str(key), 0) + value
            latencies.extend(mine_latency)
            lateness.extend(mine_late)
            tasks.update(mine_tasks)

    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    with open(args.out + ".tmp", "w") as f:
        json.dump({"tasks": tasks}, f)
    os.replace(args.out + ".tmp", args.out)
    latencies.sort()
    lateness.sort()
    ms = lambda v: None if v is None else round(1000 * v, 1)
    emit({"sent": total, "created": len(tasks), "statuses": statuses, "seconds": round(elapsed, 2),
          "rate": round(total / elapsed, 1),
          "response_ms": {"p50": ms(pct(latencies, 50)), "p99": ms(pct(latencies, 99))},
          "late_ms": {"p50": ms(pct(lateness, 50)), "p99": ms(pct(lateness, 99))}, "errors": errors})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("users", "streams", "write"):
        p = sub.add_parser(name)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, required=True)
        if name == "users":
            p.add_argument("--count", type=int, required=True)
            p.add_argument("--prefix", default="events-bench")
            p.add_argument("--threads", type=int, default=4)
            p.add_argument("--out", required=True)
        else:
            p.add_argument("--users", required=True, help="the file written by `users`")
        if name == "streams":
            p.add_argument("--streams", type=int, required=True)
            p.add_argument("--connect-concurrency", type=int, default=200)
            p.add_argument("--expect", help="the file `write` writes when it is done (latency mode)")
            p.add_argument("--drain", type=float, default=30, help="seconds to wait for late events after --expect")
            p.add_argument("--reconnect-delay", type=float, default=1.0)
        if name == "write":
            p.add_argument("--rate", type=float, required=True)
            p.add_argument("--seconds", type=float, required=True)
            p.add_argument("--threads", type=int, default=4)
            p.add_argument("--out", required=True)
    args = parser.parse_args()
    {"users": cmd_users, "streams": cmd_streams, "write": cmd_write}[args.command](args)


if __name__ == "__main__":
    main()
