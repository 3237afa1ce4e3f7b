"""Sentry's 1-second budget under load: 2,000 signed webhooks over 50 connections to `sentry-router serve`.

Real processes (`serve --workers 2`, SQLite default, FakeSlack over HTTP on 127.0.0.1), the load of
tests/system/test_load.py; prints the answer time p50/p99/max and the share of answers within 1 s (the
goal: all of them; the test asserts only a liveness bound, as the machine may be shared).
Run: `.venv/bin/python bench/bench_answer.py [--n 2000] [--connections 50]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.redis_server import free_port
from tests.fakes.slack import FakeSlack
from tests.support.delivery import wait_for
from tests.support.load import percentile, post_all
from tests.support.procs import Cluster, base_env, rules_yaml, wait_ready

TOKEN = "xoxb-bench"
BUDGET = 1.0  # seconds: Sentry's answer budget


def run(n: int, connections: int) -> None:
    """Post `n` webhooks over `connections` connections; print the answer times against the budget."""
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=TOKEN) as slack:
        tmp_path = Path(tmp)
        (tmp_path / "rules.yaml").write_text(rules_yaml())
        cluster = Cluster(tmp_path, base_env(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=slack.url))
        try:
            port = free_port()
            cluster.start("serve", "--port", str(port), "--workers", "2")
            wait_ready(port)
            answers = [o.final for o in post_all(port, range(n), connections=connections)]
            wait_for(lambda: len(slack.calls()) >= n, timeout=300, every=0.2)
        finally:
            cluster.stop_all()
    took = sorted(a.seconds for a in answers)
    within = sum(t < BUDGET for t in took) / len(took)
    print(f"{n} webhooks / {connections} connections: answer p50 {percentile(took, .5) * 1000:.0f} ms "
          f"p99 {percentile(took, .99) * 1000:.0f} ms max {took[-1] * 1000:.0f} ms; "
          f"{within:.1%} within {BUDGET:.0f} s; statuses {sorted({a.status for a in answers})}")


def main() -> None:
    """Parse arguments and run the bench."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    run(args.n, args.connections)


if __name__ == "__main__":
    main()
