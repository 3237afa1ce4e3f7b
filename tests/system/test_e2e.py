"""End to end with real processes: `web`, `worker`, `serve`, FakeSlack over HTTP, SQLite and a real redis-server."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from router.store import SENDING, SENT
from router.store.redis import RedisStore
from router.store.sqlite import SqliteStore
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import RedisServer, free_port, redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.delivery import wait_for
from tests.support.procs import Cluster, Poster, cluster, issue_body, rules_yaml, wait_ready  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

TITLE = re.compile(r"load-(\d{5})-x")


def titles(slack: FakeSlack, method: str | None = None) -> Counter[str]:
    """How many times FakeSlack got each load-NNNNN-x title (per method when given)."""
    return Counter(m.group(1) for c in slack.calls(method) if (m := TITLE.search(str(c.params.get("text")))))


def _setup(cluster: Cluster, slack: FakeSlack, webhook: bool = False, **env: str) -> None:
    (cluster.tmp / "rules.yaml").write_text(rules_yaml(slack.webhook_url if webhook else None))
    cluster.env.update(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_API_URL=slack.url, **env)


def test_worker_killed_mid_delivery_then_restarted_delivers_everything(cluster: Cluster, fake_slack: FakeSlack) -> None:
    """SIGKILL of the worker while sends are in flight, then a restart: every accepted notification arrives."""
    _setup(cluster, fake_slack, ROUTER_WORKER_THREADS="4", ROUTER_WORKER_HEARTBEAT="1.5")
    fake_slack.delay = 0.15
    port = free_port()
    cluster.start("web", "--port", str(port))
    worker = cluster.start("worker", name="worker-1")
    wait_ready(port)
    poster, n = Poster(port), 60
    accepted = [poster.post(issue_body(i))[0] for i in range(n)]
    assert accepted == [202] * n
    wait_for(lambda: len(fake_slack.calls()) >= 12, timeout=20)
    store = SqliteStore(cluster.env["ROUTER_DB"])
    in_flight = [j.id for j in store.jobs(1000, (SENDING,))]
    worker.signal(signal.SIGKILL)
    worker.wait(5)
    delivered_before = len(titles(fake_slack))
    cluster.start("worker", name="worker-2")
    wait_for(lambda: len(store.jobs(1000, (SENT,))) == n, timeout=30)
    got = titles(fake_slack)
    doubles = sum(got.values()) - len(got)
    print(f"\nSIGKILL test: accepted {n}, delivered before kill {delivered_before}, in flight at kill "
          f"{len(in_flight)}, delivered after restart {len(got)} distinct, {doubles} sent twice")
    assert len(got) == n, cluster.logs()
    assert in_flight and doubles <= len(in_flight)  # only sends cut off mid-flight may be repeated
    assert all(j.attempts >= 1 and j.receipt.get("ts") for j in store.jobs(1000))


def test_worker_sigterm_finishes_in_flight_sends_and_exits_0(cluster: Cluster, fake_slack: FakeSlack) -> None:
    """SIGTERM (Heroku's stop) lets in-flight sends finish and exits 0; what was queued (as a job, or as a webhook
    not yet fanned out) stays queued."""
    _setup(cluster, fake_slack, ROUTER_WORKER_THREADS="2")
    fake_slack.delay = 1.0
    port = free_port()
    cluster.start("web", "--port", str(port))
    worker = cluster.start("worker")
    wait_ready(port)
    poster = Poster(port)
    for i in range(5):
        assert poster.post(issue_body(100 + i))[0] == 202
    store = SqliteStore(cluster.env["ROUTER_DB"])
    in_flight = wait_for(lambda: store.jobs(100, (SENDING,)), timeout=10)
    worker.signal(signal.SIGTERM)
    assert worker.wait(25) == 0, cluster.logs()
    for job in in_flight:
        assert store.get(job.id).status == SENT
    waiting = store.due_inbound(time.time() + 600, 0, 100)  # accepted webhooks not yet fanned out (or leased)
    assert len(store.jobs(100, ("queued", "retrying"))) + len(waiting) == 5 - len(store.jobs(100, (SENT,)))


def test_serve_dedups_three_posts_and_stops_cleanly_on_ctrl_c(cluster: Cluster, fake_slack: FakeSlack) -> None:
    """`serve` runs web and worker; one webhook POSTed 3× with new Request-IDs notifies once; SIGINT exits 0."""
    _setup(cluster, fake_slack)
    port = free_port()
    serve = cluster.start("serve", "--port", str(port), "--workers", "1")
    wait_ready(port)
    poster, body = Poster(port), issue_body(7)
    answers = [poster.post(body) for _ in range(3)]
    assert [a[0] for a in answers] == [202] * 3
    assert [a[1]["duplicate"] for a in answers] == [False, True, True]
    wait_for(lambda: fake_slack.calls("chat.postMessage"), timeout=10)
    time.sleep(0.5)
    assert len(fake_slack.calls("chat.postMessage")) == 1
    serve.popen.send_signal(signal.SIGINT)  # Ctrl-C reaches the supervisor; it stops both halves
    assert serve.wait(30) == 0, cluster.logs()


def test_redis_two_webs_two_workers_500_webhooks_exactly_once(cluster: Cluster, fake_slack: FakeSlack,
                                                              redis_server: RedisServer) -> None:
    """With REDIS_URL: 2 web and 2 worker processes, 500 webhooks × 2 targets → exactly 1000 sends, none twice."""
    redis_server.flush()
    _setup(cluster, fake_slack, webhook=True, REDIS_URL=redis_server.url, ROUTER_WORKER_THREADS="4")
    ports = [free_port(), free_port()]
    for p in ports:
        cluster.start("web", "--port", str(p), WEB_CONCURRENCY="2")
    cluster.start("worker")
    cluster.start("worker")
    for p in ports:
        wait_ready(p)
    n = 500

    def post_range(k: int) -> list[int]:
        poster = Poster(ports[k % 2])
        return [poster.post(issue_body(i))[0] for i in range(k, n, 8)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for chunk in pool.map(post_range, range(8)) for s in chunk]
    assert statuses == [202] * n
    wait_for(lambda: len(fake_slack.calls()) >= 2 * n, timeout=60)
    time.sleep(1.0)  # anything doubled would show up now
    api, hook = titles(fake_slack, "chat.postMessage"), titles(fake_slack, "webhook")
    assert len(api) == n and len(hook) == n, cluster.logs()
    assert set(api.values()) == {1} and set(hook.values()) == {1}
    ledger = RedisStore(redis_server.url).jobs(5000)
    assert len(ledger) == 2 * n and {j.status for j in ledger} == {SENT}
