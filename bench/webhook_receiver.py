#!/usr/bin/env python3
"""A fast local webhook receiver for bench/webhooks.sh: Python standard library only, no framework.

Answers 204 to every POST on --port (raw HTTP/1.1 over asyncio Protocols, keep-alive, Content-Length bodies), in
--workers processes that share the port with SO_REUSEPORT, so that one Python process is not the limit. It counts
requests, and for bodies that look like a TaskFlow delivery (`{"id", "type", "occurredAt", ...}`) it records the
latency = arrival time - occurredAt (the event's commit time, same host clock), and the event id (to count
duplicates: delivery is at least once).

The figures are served by the parent process on --stats-port (loopback), summed over the workers:
  GET  /stats[?since=UNIX] -> JSON {count, payloads, mean_body_bytes, unique, duplicates, unparsed, first, last (unix
                  seconds of the first and last arrival), latency_ms: {n, p50, p90, p99, max, mean}} since the last
                  reset; with ?since, latency_ms covers only the events that occurred at or after that instant
  POST /reset  -> 204, zeroes everything
and printed on SIGUSR1 (to stderr). A POST to any path of --port is a delivery; a non-POST there is 405.

Usage: bench/webhook_receiver.py [--port 3190] [--stats-port 3191] [--workers 2]
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from calendar import timegm

RESPONSE_204 = b"HTTP/1.1 204 No Content\r\n\r\n"
RESPONSE_204_CLOSE = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
RESPONSE_405 = b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nAllow: POST\r\n\r\n"
RESPONSE_411 = b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
MAX_HEAD = 64 * 1024

# 2026-11-30T06:27:30Z, 2026-11-30T06:27:30.123456789Z or with +00:00; TaskFlow sends UTC.
TIMESTAMP = re.compile(rb'"occurredAt"\s*:\s*"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)"')
EVENT_ID = re.compile(rb'"id"\s*:\s*"([0-9a-fA-F-]{36})"')


def occurred_at(body):
    """Unix seconds of the body's occurredAt, or None when the body is not a TaskFlow delivery."""
    if b'"type"' not in body:
        return None
    m = TIMESTAMP.search(body)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    seconds = timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    if frac:
        seconds += int(frac) / 10 ** len(frac)
    if zone != b"Z":
        sign = 1 if zone[:1] == b"+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


class Figures:
    """What one worker process saw since the last reset."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.count = 0
        self.bytes = 0
        self.unparsed = 0
        self.first = None
        self.last = None
        self.samples = []  # (occurredAt, arrival), unix seconds
        self.ids = set()
        self.duplicates = 0

    def record(self, now, path, body):
        self.count += 1
        self.bytes += len(body)
        if self.first is None:
            self.first = now
        self.last = now
        at = occurred_at(body)
        if at is None:
            self.unparsed += 1
            return
        self.samples.append((at, now))
        m = EVENT_ID.search(body)
        if m is not None:
            # One event can reach several webhooks: the id is unique per (event, receiver path) only when the
            # webhooks point at different paths, which is how bench/webhooks.sh registers them.
            key = (path, m.group(1))
            if key in self.ids:
                self.duplicates += 1
            else:
                self.ids.add(key)

    def snapshot(self):
        return {
            "count": self.count,
            "bytes": self.bytes,
            "unparsed": self.unparsed,
            "first": self.first,
            "last": self.last,
            "samples": self.samples,
            "unique": len(self.ids),
            "duplicates": self.duplicates,
        }


class Delivery(asyncio.Protocol):
    """One HTTP/1.1 connection: parses requests as they arrive (pipelining included) and answers each."""

    __slots__ = ("figures", "transport", "buffer", "need", "close_after", "method", "path")

    def __init__(self, figures):
        self.figures = figures
        self.transport = None
        self.buffer = bytearray()
        self.need = None  # body length of the request whose head was parsed, or None while reading a head
        self.close_after = False
        self.method = b""
        self.path = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        now = time.time()
        out = []
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > MAX_HEAD:
                        self.transport.close()
                    break
                head = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                lines = head.split(b"\r\n")
                parts = lines[0].split(b" ")
                self.method = parts[0]
                self.path = parts[1] if len(parts) > 1 else b"/"
                length = 0
                self.close_after = False
                chunked = False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value.strip())
                    elif name == b"connection":
                        self.close_after = value.strip().lower() == b"close"
                    elif name == b"transfer-encoding":
                        chunked = b"chunked" in value.lower()
                if chunked:  # not expected from TaskFlow (it knows the body's length): say so loudly
                    out.append(RESPONSE_411)
                    self.close_after = True
                    break
                self.need = length
            if len(self.buffer) < self.need:
                break
            body = bytes(self.buffer[: self.need])
            del self.buffer[: self.need]
            self.need = None
            if self.method == b"POST":
                self.figures.record(now, self.path, body)
                out.append(RESPONSE_204_CLOSE if self.close_after else RESPONSE_204)
            else:
                out.append(RESPONSE_405)
            if self.close_after:
                break
        if out:
            self.transport.write(b"".join(out))
        if self.close_after:
            self.transport.close()


def worker(port, control):
    """One receiver process: serves deliveries on the shared port and answers the parent on `control`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    figures = Figures()
    loop = asyncio.new_event_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    loop.run_until_complete(loop.create_server(lambda: Delivery(figures), sock=sock))

    control.setblocking(False)
    pending = bytearray()

    def on_control():
        try:
            data = control.recv(64)
        except BlockingIOError:
            return
        if not data:
            loop.stop()
            return
        pending.extend(data)
        while pending:
            command = pending[:1]
            del pending[:1]
            if command == b"S":
                control.setblocking(True)
                control.sendall(json.dumps(figures.snapshot()).encode() + b"\n")
                control.setblocking(False)
            elif command == b"R":
                figures.reset()
                control.setblocking(True)
                control.sendall(b"{}\n")
                control.setblocking(False)

    loop.add_reader(control.fileno(), on_control)
    loop.run_forever()


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


class Parent:
    """Asks every worker for its figures and sums them."""

    def __init__(self, controls):
        self.controls = controls

    def ask(self, command):
        replies = []
        for control in self.controls:
            control.sendall(command)
        for control in self.controls:
            data = bytearray()
            while not data.endswith(b"\n"):
                chunk = control.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("a receiver worker exited")
                data += chunk
            replies.append(json.loads(data))
        return replies

    def stats(self, since=None):
        parts = self.ask(b"S")
        samples = [s for part in parts for s in part["samples"]]
        latencies = sorted(arrival - at for at, arrival in samples if since is None or at >= since)
        firsts = [p["first"] for p in parts if p["first"] is not None]
        lasts = [p["last"] for p in parts if p["last"] is not None]
        ms = [x * 1000 for x in latencies]
        return {
            "count": sum(p["count"] for p in parts),
            "payloads": len(samples),
            "mean_body_bytes": round(sum(p["bytes"] for p in parts) / max(1, sum(p["count"] for p in parts))),
            "unique": sum(p["unique"] for p in parts),
            "duplicates": sum(p["duplicates"] for p in parts),
            "unparsed": sum(p["unparsed"] for p in parts),
            "first": min(firsts) if firsts else None,
            "last": max(lasts) if lasts else None,
            "per_worker": [p["count"] for p in parts],
            "latency_ms": {  # of the events that occurred at or after ?since= (all when absent)
                "n": len(ms),
                "p50": percentile(ms, 50),
                "p90": percentile(ms, 90),
                "p99": percentile(ms, 99),
                "max": ms[-1] if ms else None,
                "mean": sum(ms) / len(ms) if ms else None,
            },
        }

    def reset(self):
        self.ask(b"R")


def serve_stats(parent, stats_port):
    """The parent's loop: a tiny blocking HTTP/1.0-style server for /stats and /reset (one request per connection)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", stats_port))
    server.listen(16)

    dump = []  # SIGUSR1 asks for a print; done between requests, never inside one
    signal.signal(signal.SIGUSR1, lambda *_: dump.append(1))
    server.settimeout(0.5)
    print(f"webhook receiver: deliveries on 127.0.0.1:{ARGS.port} ({len(parent.controls)} workers), "
          f"stats on 127.0.0.1:{stats_port}", file=sys.stderr, flush=True)
    while True:
        if dump:
            dump.clear()
            print(json.dumps(parent.stats()), file=sys.stderr, flush=True)
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(10)
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].split(b" ")
            method, path = (line + [b"", b""])[:2]
            if method == b"GET" and path.split(b"?")[0] == b"/stats":
                query = dict(p.split(b"=", 1) for p in path.partition(b"?")[2].split(b"&") if b"=" in p)
                since = float(query[b"since"]) if b"since" in query else None
                body = json.dumps(parent.stats(since)).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
            elif method == b"POST" and path == b"/reset":
                parent.reset()
                conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def main():
    controls, children = [], []
    for _ in range(ARGS.workers):
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            mine.close()
            for other in controls:
                other.close()
            try:
                worker(ARGS.port, theirs)
            finally:
                os._exit(0)
        theirs.close()
        controls.append(mine)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve_stats(Parent(controls), ARGS.stats_port)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=3190)
    parser.add_argument("--stats-port", type=int, default=3191)
    parser.add_argument("--workers", type=int, default=2)
    ARGS = parser.parse_args()
    main()
