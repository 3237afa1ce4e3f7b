"""Ingest under slow clients: signed webhooks answered within 1 s while slowloris connections are open.

    .venv/bin/python bench/bench_slowloris.py [--slow 8] [--duration 60] [--interval 0.5] [--every 2]

Starts `sentry-router web` (its gunicorn config, WEB_CONCURRENCY=2, embedded SQLite) with the bench rules,
opens `--slow` connections that each send a request line and then one header line every `--every` seconds,
never finishing (and reconnect when the server closes them), and meanwhile posts one distinct signed
webhook every `--interval` seconds for `--duration` seconds. Prints how many were answered 202 within 1 s
(Sentry's budget), within 5 s, and the worst answer time. `--slow 0` is the baseline without attackers.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import SECRET, start_router
from bench.ingest_payloads import webhooks
from tests.conftest import signed_headers


def slow_client(port: int, every: float, stop: threading.Event, counts: dict[str, int]) -> None:
    """One slowloris connection: a request line, then a header line every `every` s; reconnect when closed."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                counts["connections"] += 1
                s.sendall(b"POST /sentry/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                n = 0
                while not stop.wait(every):
                    s.sendall(f"X-Slow-{n}: {'a' * 8}\r\n".encode())
                    n += 1
        except OSError:
            stop.wait(0.05)


def post(port: int, resource: str, body: bytes, timeout: float) -> tuple[int, float]:
    """(status or 0 on failure, seconds) for one signed webhook on a fresh connection, as Sentry sends them."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/sentry/webhook", body=body, headers=signed_headers(resource, body, SECRET))
        status = conn.getresponse().status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - start


def run(port: int, args: argparse.Namespace) -> list[tuple[int, float, int]]:
    """Post a webhook every interval for the duration (each in its own thread, like Sentry's many senders)."""
    bodies = webhooks(int(args.duration / args.interval) + 1)
    results: list[tuple[int, float, int]] = []
    threads = []
    t0 = time.monotonic()
    for i, (resource, body) in enumerate(bodies):
        delay = t0 + i * args.interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=lambda r=resource, b=body, k=i: results.append((*post(port, r, b, 10), k)))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return results


def main() -> None:
    """Start the router, the slow clients and the sender; print the counts."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slow", type=int, default=8, help="slowloris connections")
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--every", type=float, default=2.0, help="seconds between a slow client's header lines")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-slowloris-"))
    server = start_router(tmp, "router", "0s")
    stop = threading.Event()
    counts = {"connections": 0}
    slow = [threading.Thread(target=slow_client, args=(server.port, args.every, stop, counts), daemon=True)
            for _ in range(args.slow)]
    try:
        for t in slow:
            t.start()
        time.sleep(1)
        results = run(server.port, args)
    finally:
        stop.set()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    times = [t for status, t, _ in results if status == 202]
    within1 = sum(1 for status, t, _ in results if status == 202 and t <= 1.0)
    within5 = sum(1 for status, t, _ in results if status == 202 and t <= 5.0)
    late = sorted((k * args.interval, t) for status, t, k in results if status != 202 or t > 1.0)
    print(f"{os.cpu_count()} CPUs (shared), {args.slow} slow connections ({counts['connections']} opened), "
          f"a webhook every {args.interval} s for {args.duration:.0f} s")
    print(f"answered 202 within 1 s: {within1}/{len(results)}; within 5 s: {within5}/{len(results)}; "
          f"failed: {sum(1 for s, _, _ in results if s != 202)}")
    if late:
        print("late or failed (sent at s: took s): " + ", ".join(f"{at:.1f}: {t:.2f}" for at, t in late))
    if times:
        print(f"answer time: median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
