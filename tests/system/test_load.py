"""Load: 2,000 signed webhooks from 50 concurrent connections against `sentry-router serve` on SQLite."""

from __future__ import annotations

import time

import pytest

from router.store import SENT
from router.store.sqlite import SqliteStore
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import free_port
from tests.fakes.slack import FakeSlack
from tests.support.delivery import wait_for
from tests.support.load import percentile, post_all, slack_titles
from tests.support.procs import Cluster, cluster, rules_yaml, wait_ready  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

N, CONNECTIONS = 2000, 50
STALLED = 5.0  # seconds: an answer this late is a stalled request (Sentry's 1 s budget: bench/bench_answer.py)


def test_2000_webhooks_50_connections_all_202_none_stalled_each_delivered_exactly_once(
        cluster: Cluster, fake_slack: FakeSlack) -> None:
    """2,000 distinct webhooks over 50 connections: every answer 202, none stalled; each one in Slack exactly once."""
    (cluster.tmp / "rules.yaml").write_text(rules_yaml())
    cluster.env.update(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_API_URL=fake_slack.url)
    port = free_port()
    cluster.start("serve", "--port", str(port), "--workers", "2")
    wait_ready(port)
    start = time.monotonic()
    outcomes = post_all(port, range(N), connections=CONNECTIONS)
    posted = time.monotonic() - start
    answers = [o.final for o in outcomes]
    wait_for(lambda: len(fake_slack.calls()) >= N, timeout=90, every=0.1)
    drained = time.monotonic() - start
    time.sleep(1.0)  # a doubled send would arrive now
    got = slack_titles(fake_slack, "chat.postMessage")
    slow = sorted(a.seconds for a in answers)
    print(f"\nload: {N} webhooks / {CONNECTIONS} connections posted in {posted:.1f}s ({N / posted:.0f}/s), "
          f"answer p50 {percentile(slow, .5) * 1000:.0f} ms p99 {percentile(slow, .99) * 1000:.0f} ms "
          f"max {slow[-1] * 1000:.0f} ms; all delivered after {drained:.1f}s")
    assert [a.status for a in answers] == [202] * N, cluster.logs()
    assert not any(a.duplicate for a in answers)
    assert slow[-1] < STALLED
    assert sorted(got) == list(range(N)) and set(got.values()) == {1}, cluster.logs()
    assert len(fake_slack.calls()) == N
    assert SqliteStore(cluster.env["ROUTER_DB"]).count(SENT) == N
