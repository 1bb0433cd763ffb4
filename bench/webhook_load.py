#!/usr/bin/env python3
"""Creates tasks through POST /tasks for bench/webhooks.sh: Python standard library only.

Two modes, each printing one JSON line of figures on stdout:
  --rate R --seconds S   paced: request i is sent at start + i/R (a steady event rate, for the latency phase); the
                         figures say how late the sends were against that schedule, so a generator that could not
                         keep up is visible instead of silently lowering the rate;
  --count N              as fast as --threads keep-alive connections allow (to fill the outbox).
Every connection is an http.client keep-alive connection owned by one thread.

Usage: bench/webhook_load.py --port 3201 --token TOKEN (--rate 100 --seconds 20 | --count 20000) [--threads 8]
"""

import argparse
import http.client
import json
import threading
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--count", type=int)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if (args.count is None) == (args.rate is None or args.seconds is None):
        parser.error("give either --rate and --seconds, or --count")
    total = args.count if args.count is not None else int(args.rate * args.seconds)

    lock = threading.Lock()
    next_index = [0]
    statuses = {}
    latencies = []  # response time of each request, seconds
    lateness = []  # send time - scheduled time, seconds (paced mode)
    errors = []
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.token}"}
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
        mine_status, mine_latency, mine_late = {}, [], []
        while (i := take()) is not None:
            if args.rate is not None:
                due = start + i / args.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                mine_late.append(time.monotonic() - due)
            body = json.dumps({"title": f"webhook bench task {i}",
                               "description": "Created by bench/webhook_load.py to measure webhook delivery.",
                               "priority": "MEDIUM"})
            sent = time.monotonic()
            try:
                conn.request("POST", "/tasks", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as err:
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

    threads = [threading.Thread(target=run) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start

    def pct(values, p):
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))], 1) if values else None

    print(json.dumps({
        "sent": total,
        "statuses": statuses,
        "seconds": round(elapsed, 2),
        "rate": round(total / elapsed, 1),
        "response_ms": {"p50": pct(latencies, 50), "p99": pct(latencies, 99)},
        "late_ms": {"p50": pct(lateness, 50), "p99": pct(lateness, 99)} if lateness else None,
        "errors": errors,
    }))


if __name__ == "__main__":
    main()
