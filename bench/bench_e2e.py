"""Webhook → fake Slack: latency (p50/p99) and deliveries per second, SQLite default and Redis.

Real processes: `sentry-router web` (gunicorn, 2 workers) + `sentry-router worker` (8 threads), FakeSlack over
HTTP on 127.0.0.1. Run: `.venv/bin/python bench/bench_e2e.py [--paced 300] [--burst 2000]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.redis_server import RedisServer, free_port
from tests.fakes.slack import FakeSlack
from tests.support.procs import Cluster, Poster, base_env, issue_body, rules_yaml, wait_ready

TOKEN = "xoxb-bench"


def _wait_calls(slack: FakeSlack, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(slack.calls()) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(slack.calls())}/{n} delivered after {timeout}s")
        time.sleep(0.01)


def paced_latency(port: int, slack: FakeSlack, n: int, rate: float, offset: int) -> list[float]:
    """Post `n` webhooks at `rate`/s; seconds from each POST to its Slack call."""
    poster, sent = Poster(port), {}
    for i in range(n):
        key = f"{offset + i:05d}"
        sent[key] = time.time()
        assert poster.post(issue_body(offset + i))[0] == 202
        time.sleep(max(0.0, 1 / rate - (time.time() - sent[key])))
    _wait_calls(slack, n)
    import re

    pat = re.compile(r"load-(\d{5})-x")
    got = {m.group(1): c.time for c in slack.calls() if (m := pat.search(str(c.params.get("text"))))}
    return [got[k] - t for k, t in sent.items()]


def burst(ports: list[int], n: int, offset: int) -> float:
    """Post `n` webhooks from 8 threads as fast as possible; accepted per second."""
    start = time.monotonic()

    def post(k: int) -> None:
        poster = Poster(ports[k % len(ports)])
        for i in range(k, n, 8):
            assert poster.post(issue_body(offset + i))[0] == 202

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(8)))
    return n / (time.monotonic() - start)


def drain(cluster: Cluster, slack: FakeSlack, n: int) -> float:
    """Start a worker on a backlog of `n` jobs; deliveries per second until the last arrives."""
    before = len(slack.calls())
    start = time.monotonic()
    cluster.start("worker", name="drain-worker")
    _wait_calls(slack, before + n)
    return n / (time.monotonic() - start)


def run(kind: str, paced: int, burst_n: int) -> None:
    """Bench one store kind and print a line of numbers."""
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=TOKEN) as slack:
        tmp_path = Path(tmp)
        (tmp_path / "rules.yaml").write_text(rules_yaml())
        env = base_env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.url)
        server = RedisServer(tmp_path) if kind == "redis" else None
        if server:
            env["REDIS_URL"] = server.url
        cluster = Cluster(tmp_path, env)
        try:
            port = free_port()
            cluster.start("web", "--port", str(port))
            worker = cluster.start("worker")
            wait_ready(port)
            lat = sorted(paced_latency(port, slack, paced, 50.0, 0))
            worker.stop()
            slack.reset()
            acc_rate = burst([port], burst_n, 10000)
            del_rate = drain(cluster, slack, burst_n)
            p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
            print(f"{kind:6}  latency p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  (n={paced} at 50/s)   "
                  f"{burst_n} webhooks: accepted {acc_rate:5.0f}/s; backlog delivered {del_rate:5.0f}/s (1 worker)")
        finally:
            cluster.stop_all()
            if server:
                server.stop()


def main() -> None:
    """Parse arguments and run both benches."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--paced", type=int, default=300)
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--only", choices=["sqlite", "redis"])
    args = ap.parse_args()
    for kind in [args.only] if args.only else ["sqlite", "redis"]:
        run(kind, args.paced, args.burst)


if __name__ == "__main__":
    main()
