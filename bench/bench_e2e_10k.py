"""10,000 webhooks → fake Slack, SQLite default and Redis: latency, deliveries/s, exactly once, worker SIGKILL.

Real processes: `sentry-router web` (gunicorn, 2 workers) + `sentry-router worker` (8 threads); FakeSlack in
its own process. 16 client connections post as fast as the web accepts (or `--rate` per second), while the
worker delivers. Latency is POST start → FakeSlack receipt, per webhook (a burst includes the backlog wait).
`--kill` also runs a variant where the worker is SIGKILLed at half the deliveries and a new one started:
sends in flight at the kill may be repeated (at-least-once), nothing may be lost.

    .venv/bin/python bench/bench_e2e_10k.py [--n 10000] [--rate 0] [--only sqlite|redis] [--no-kill]
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.slack_process import SlackProcess
from router.store import SENDING, SENT
from tests.fakes.redis_server import RedisServer, free_port
from tests.support.load import percentile, post_all
from tests.support.procs import Cluster, base_env, rules_yaml, wait_ready

TOKEN = "xoxb-bench"
CONNECTIONS = 16


def _store(env: dict[str, str]):
    if env.get("REDIS_URL"):
        from router.store.redis import RedisStore

        return RedisStore(env["REDIS_URL"])
    from router.store.sqlite import SqliteStore

    return SqliteStore(env["ROUTER_DB"])


def _killer(cluster: Cluster, slack: SlackProcess, n: int, report: dict[str, float]):
    """A thread body: at n/2 deliveries SIGKILL the worker, count its in-flight sends, start a new one."""
    def run() -> None:
        deadline = time.monotonic() + 600
        while len(slack.calls()) < n // 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = next(p for p in cluster.procs if p.name == "worker-1")
        worker.signal(signal.SIGSTOP)  # frozen: the sends it holds now are exactly those the kill cuts off
        in_flight = len(_store(cluster.env).jobs(10 * n, (SENDING,)))
        worker.signal(signal.SIGKILL)
        worker.wait(10)
        report.update(in_flight=in_flight, killed_at=len(slack.calls()))
        cluster.start("worker", name="worker-2")
    return run


def run(kind: str, n: int, rate: float, kill: bool) -> dict[str, float]:
    """One 10k run; returns its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "rules.yaml").write_text(rules_yaml())
        slack = SlackProcess(TOKEN, tmp_path / "slack.log")
        env = base_env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.url)
        server = RedisServer(tmp_path) if kind == "redis" else None
        if server:
            env["REDIS_URL"] = server.url
        cluster = Cluster(tmp_path, env)
        report: dict[str, float] = {}
        try:
            port = free_port()
            cluster.start("web", "--port", str(port))
            cluster.start("worker", name="worker-1")
            wait_ready(port)
            chaos = threading.Thread(target=_killer(cluster, slack, n, report), daemon=True) if kill else None
            if chaos:
                chaos.start()
            sent: dict[int, float] = {}
            t0: list[float] = []

            def pace(k: int) -> None:  # called by a client thread right before it posts webhook k
                if not t0:
                    t0.append(time.time())
                if rate:
                    time.sleep(max(0.0, t0[0] + k / rate - time.time()))
                sent[k] = time.time()

            outcomes = post_all(port, range(n), connections=CONNECTIONS, pause=pace)
            start = t0[0]
            posted = time.time() - start
            deadline = time.monotonic() + 600
            while len({c[0] for c in slack.calls()}) < n and time.monotonic() < deadline:
                time.sleep(0.1)
            while _store(env).count(SENT) < n and time.monotonic() < deadline:  # a cut-off send re-sent
                time.sleep(0.5)
            calls = slack.calls()
            first: dict[int, float] = {}
            for num, _method, at in calls:
                first.setdefault(num, at)
            done = max(first.values()) - start
            time.sleep(1.0)  # a doubled send would arrive now
            per = Counter(c[0] for c in slack.calls())
            lat = [first[k] - t for k, t in sent.items() if k in first]
            report.update(
                accepted=sum(o.final.status == 202 and not o.final.duplicate for o in outcomes),
                delivered=len(per), duplicates=sum(per.values()) - len(per), ledger_sent=_store(env).count(SENT),
                accept_rate=n / posted, delivery_rate=n / done, p50=percentile(lat, .5), p99=percentile(lat, .99),
                seconds=done)
            if chaos:
                chaos.join(5)
            return report
        finally:
            cluster.stop_all()
            slack.stop()
            if server:
                server.stop()


def line(kind: str, kill: bool, r: dict[str, float]) -> str:
    """One Markdown table row of a run's figures."""
    killed = f"yes: at {r['killed_at']:.0f} delivered, {r['in_flight']:.0f} in flight" if kill else "no"
    return (f"| {kind} | {killed} | {r['accepted']:.0f} | {r['delivered']:.0f} | {r['duplicates']:.0f} | "
            f"{r['ledger_sent']:.0f} | {r['accept_rate']:.0f}/s | {r['delivery_rate']:.0f}/s | "
            f"{r['p50'] * 1000:.0f} ms | {r['p99'] * 1000:.0f} ms |")


def main() -> None:
    """Parse arguments, run every variant, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=0.0, help="webhooks per second (0: as fast as accepted)")
    ap.add_argument("--only", choices=["sqlite", "redis"])
    ap.add_argument("--no-kill", action="store_true", help="skip the worker SIGKILL variant")
    args = ap.parse_args()
    print("| store | worker SIGKILL | accepted | delivered | doubled | ledger sent | accepted/s | delivered/s "
          "(first POST → last receipt) | latency p50 | p99 |\n|---|---|---|---|---|---|---|---|---|---|",
          flush=True)
    for kind in [args.only] if args.only else ["sqlite", "redis"]:
        for kill in (False,) if args.no_kill else (False, True):
            print(line(kind, kill, run(kind, args.n, args.rate, kill)), flush=True)


if __name__ == "__main__":
    main()
