"""Faults with real processes: the web process SIGKILLed mid-flow, Redis restarted mid-run; accepted == delivered.

Not repeated here (pinned in test_delivery_e2e.py): the worker SIGKILLed mid-delivery and restarted, SIGTERM
drain. Slack 500/429/timeouts and SMTP refusing are in test_faults_channels.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.store import SENT
from router.store.redis import RedisStore
from router.store.sqlite import SqliteStore
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import RedisServer, free_port
from tests.fakes.slack import FakeSlack
from tests.support.delivery import wait_for
from tests.support.load import Outcome, gunicorn_workers, post_all, slack_titles
from tests.support.procs import Cluster, cluster, rules_yaml, wait_ready  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop


def _setup(cluster: Cluster, slack: FakeSlack, **env: str) -> None:
    (cluster.tmp / "rules.yaml").write_text(rules_yaml())
    cluster.env.update(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_API_URL=slack.url, ROUTER_WORKER_HEARTBEAT="1", **env)


def _check_answers(outcomes: list[Outcome], allowed: set[int]) -> tuple[int, int]:
    """Every webhook ends 202; failures are only `allowed`; a 'duplicate' answer only follows a failed try."""
    assert [o.final.status for o in outcomes] == [202] * len(outcomes), \
        [(o.n, [a.status for a in o.attempts]) for o in outcomes if o.final.status != 202][:5]
    assert {a.status for o in outcomes for a in o.attempts} <= allowed | {202}
    for o in outcomes:
        if o.final.duplicate:  # stored by an attempt whose answer was lost: the retry is recognised
            assert len(o.attempts) > 1 and o.attempts[0].status != 202, o
    failed = sum(a.status != 202 for o in outcomes for a in o.attempts)
    return failed, sum(o.final.duplicate for o in outcomes)


def _delivered_once(slack: FakeSlack, n: int, cluster: Cluster) -> None:
    try:
        wait_for(lambda: len(slack.calls()) >= n, timeout=60, every=0.1)
    except AssertionError:
        raise AssertionError(f"{len(slack.calls())} of {n} delivered\n{cluster.logs()}") from None
    time.sleep(1.0)  # a doubled send would arrive now
    got = slack_titles(slack)
    assert sorted(got) == list(range(n)), cluster.logs()
    assert set(got.values()) == {1}, {k: v for k, v in got.items() if v > 1}


def test_web_sigkill_worker_then_whole_web_client_retries_are_deduped_and_delivered_once(
        cluster: Cluster, fake_slack: FakeSlack) -> None:
    """SIGKILL a gunicorn worker, later the whole web, while webhooks flow: retries dedup; each delivered once."""
    _setup(cluster, fake_slack)
    port, n = free_port(), 400
    web = [cluster.start("web", "--port", str(port), name="web-1")]
    cluster.start("worker")
    wait_ready(port)
    kills: list[str] = []

    def chaos(k: int) -> None:  # runs in the client thread that reaches webhook k
        if k == 100:
            pid = gunicorn_workers(web[0].popen.pid)[0]
            os.kill(pid, signal.SIGKILL)
            kills.append(f"gunicorn worker {pid}")
        elif k == 250:
            web[0].signal(signal.SIGKILL)
            web[0].wait(5)
            kills.append("whole web (master + workers)")
            web[0] = cluster.start("web", "--port", str(port), name="web-2")  # clients retry until it is up

    outcomes = post_all(port, range(n), connections=10, retry_until=30.0, pause=chaos)
    failed, dups = _check_answers(outcomes, allowed={0})
    print(f"\nweb SIGKILL: {n} webhooks, kills: {kills}; {failed} attempts failed (connection reset/refused), "
          f"{dups} retries answered 'duplicate' (stored before the kill)")
    assert len(kills) == 2 and failed > 0
    again = post_all(port, range(0, 100, 2), connections=5)  # accepted by the killed web: still known
    assert all(o.final.status == 202 and o.final.duplicate for o in again)
    _delivered_once(fake_slack, n, cluster)
    assert SqliteStore(cluster.env["ROUTER_DB"]).count(SENT) == n


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server with appendonly + appendfsync always (a restart keeps every acknowledged write).

    Without persistence (`--save "" --appendonly no`, the shared test server) a restart comes back empty: the
    ledger, dedup keys and queue are gone, so webhooks answered 202 but not yet delivered are lost for good.
    """
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis", persistent=True)
    try:
        yield server
    finally:
        server.stop()


def test_redis_restart_mid_run_web_answers_503_worker_recovers_all_delivered_once(
        cluster: Cluster, fake_slack: FakeSlack, persistent_redis: RedisServer) -> None:
    """Redis stopped and started mid-run: web answers 503 meanwhile, never 202; the same worker delivers all once."""
    _setup(cluster, fake_slack, REDIS_URL=persistent_redis.url, ROUTER_WORKER_THREADS="4")
    port, n = free_port(), 300
    cluster.start("web", "--port", str(port))
    worker = cluster.start("worker")
    wait_ready(port)
    outage: list[float] = []
    third = threading.Event()

    def restart_redis() -> None:
        third.wait(30)  # a third of the webhooks posted, deliveries under way
        outage.append(time.monotonic())
        persistent_redis.stop()  # SIGTERM: the append-only file is complete
        time.sleep(3.0)
        persistent_redis.restart()
        outage.append(time.monotonic())

    def pace(k: int) -> None:  # ~ 8 × 40/s, so the posting spans the outage
        if k == n // 3:
            third.set()
        time.sleep(0.02)

    chaos = threading.Thread(target=restart_redis, daemon=True)
    chaos.start()
    outcomes = post_all(port, range(n), connections=8, retry_until=30.0, pause=pace)
    chaos.join(30)
    failed, dups = _check_answers(outcomes, allowed={503})
    print(f"\nRedis restart: {n} webhooks, outage {outage[1] - outage[0]:.1f}s; {failed} answers 503, "
          f"{dups} retries answered 'duplicate'")
    assert len(outage) == 2 and failed > 0
    try:
        _delivered_once(fake_slack, n, cluster)
    except AssertionError as exc:
        stuck = [(j.id, j.status, j.attempts, j.last_error, j.owner)
                 for j in RedisStore(persistent_redis.url).jobs(5 * n)
                 if j.status != SENT]
        raise AssertionError(f"not sent: {stuck}\n{str(exc)[:300]}") from None
    assert worker.popen.poll() is None  # the same worker process, not restarted
    ledger = RedisStore(persistent_redis.url).jobs(5 * n)
    assert len(ledger) == n and {j.status for j in ledger} == {SENT}
    # the outage is reported, not narrated: repeated warnings are collapsed (router/logs/collapse.py)
    logs = {p.name: p.log.read_text(errors="replace") for p in cluster.procs}
    tracebacks = sum(text.count("Traceback") for text in logs.values())
    noisy = sum(1 for text in logs.values() for line in text.splitlines() if " WARNING " in line or " ERROR " in line)
    print(f"log during the outage: {tracebacks} tracebacks, {noisy} warning/error lines")
    assert tracebacks <= 10 and noisy <= 60, (tracebacks, noisy)

