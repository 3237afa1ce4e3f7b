"""Exactly one Slack card per issue when its events arrive at once: real processes on Redis, threads on SQLite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from router.sentry import encode_like_sentry
from router.settings import Settings
from router.store import SENT
from router.store.redis import RedisStore
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import RedisServer, free_port, redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.delivery import jobs_of, notify, running_worker, wait_for
from tests.support.procs import Cluster, Poster, cluster, wait_ready  # noqa: F401  (fixture)
from tests.support.threads import about, payload_about, threaded_target

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

RULES = ("version: 1\ntargets:\n  oncall:\n    type: slack\n    channel: \"#oncall\"\n"
         "rules:\n  - name: all\n    match: {}\n    notify: [oncall]\n")   # thread: issue is the default
ERRORS = 10


def assert_one_card_rest_in_its_thread(slack: FakeSlack, replies: int) -> None:
    """The channel shows one message (the card); every other notification is a reply in its thread."""
    top = slack.top_level("#oncall")
    assert len(top) == 1, [m["text"][:60] for m in top]
    assert len(slack.replies(top[0]["ts"])) == replies
    assert len(slack.messages()) == replies + 1


def test_redis_two_webs_two_workers_one_card_per_issue(cluster: Cluster, fake_slack: FakeSlack,
                                                       redis_server: RedisServer) -> None:
    """2 web + 2 worker processes on Redis; issue.created + 10 errors of one issue at once → 1 card, 10 replies."""
    redis_server.flush()
    (cluster.tmp / "rules.yaml").write_text(RULES)
    cluster.env.update(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_API_URL=fake_slack.url, REDIS_URL=redis_server.url,
                       ROUTER_WORKER_THREADS="4", ROUTER_RETRY_BASE="0.5")
    fake_slack.delay = 0.3    # a card post takes a moment, as Slack's does: the others arrive meanwhile
    ports = [free_port(), free_port()]
    for p in ports:
        cluster.start("web", "--port", str(p), WEB_CONCURRENCY="2")
    cluster.start("worker"), cluster.start("worker")
    for p in ports:
        wait_ready(p)
    bodies = [("issue", encode_like_sentry(payload_about("9301")))]
    bodies += [("error", encode_like_sentry(payload_about("9301", "error", n=i))) for i in range(ERRORS)]

    def post(k: int) -> int:
        resource, body = bodies[k]
        return Poster(ports[k % 2]).post(body, resource=resource)[0]

    with ThreadPoolExecutor(len(bodies)) as pool:
        assert list(pool.map(post, range(len(bodies)))) == [202] * len(bodies)
    store = RedisStore(redis_server.url)
    wait_for(lambda: len(store.jobs(100, (SENT,))) == len(bodies), timeout=30)
    assert_one_card_rest_in_its_thread(fake_slack, ERRORS)
    kinds = sorted(j.receipt["kind"] for j in store.jobs(100))
    assert kinds == ["card"] + ["reply"] * ERRORS, cluster.logs()
    waited = sum(j.attempts > 1 for j in store.jobs(100))
    print(f"\nRedis race: 1 card, {ERRORS} replies; {waited} notification(s) waited for the card being posted")


def test_sqlite_one_worker_eight_threads_one_card_per_issue(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """The embedded store, one worker with 8 threads, 11 events of one issue queued at once → 1 card, 10 replies."""
    settings = Settings(db_path=str(tmp_path / "router.sqlite3"), rules_path=str(tmp_path / "none.yaml"),
                        slack_bot_token=SLACK_TOKEN,
                        slack_api_url=fake_slack.url, templates_path=str(tmp_path / "t"), retry_base=0.3,
                        slack_rate=0.0)   # a reply each: pacing merges a backlog (test_delivery_pacing)
    fake_slack.delay = 0.05
    events = [about("9302")] + [about("9302", "error", n=i) for i in range(ERRORS)]
    with running_worker(settings, threads=8) as delivery:
        with ThreadPoolExecutor(8) as pool:
            accepted = list(pool.map(lambda e: delivery.accept(e, notify(threaded_target()), 1200, 0), events))
        jobs = [j for a in accepted for j in jobs_of(delivery, a)]
        wait_for(lambda: all(delivery.store.get(j).status == SENT for j in jobs), timeout=20)
        waited = sum(delivery.store.get(j).attempts > 1 for j in jobs)
    assert_one_card_rest_in_its_thread(fake_slack, ERRORS)
    print(f"\nSQLite race: 1 card, {ERRORS} replies; {waited} notification(s) waited for the card being posted")
