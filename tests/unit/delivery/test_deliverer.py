"""The delivery worker against real local servers (FakeSlack over HTTP, aiosmtpd): retries, dead letters, throttle."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from router.channels.base import DeliveryError
from router.delivery.policy import RetryPolicy
from router.rules.model import Target
from router.settings import Settings
from router.store import DEAD, SENT, SUPPRESSED
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack, fake_smtp  # noqa: F401  (fixtures)
from tests.fakes.redis_server import free_port, redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSMTP, _Collector
from tests.support.delivery import issue_event, jobs_of, notify, running_worker, slack_target, wait_for, worker_settings


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    """Settings on a private SQLite store, FakeSlack as the Slack API, fast retries."""
    return worker_settings(tmp_path, fake_slack.url)


def test_delivers_to_slack_and_records_the_receipt(settings: Settings, fake_slack: FakeSlack) -> None:
    """A healthy target gets the notification (latency: bench/bench_e2e.py); the ledger keeps channel and ts."""
    with running_worker(settings) as delivery:
        accepted = delivery.accept(issue_event(1), notify(slack_target()), 1200, 0)
        wait_for(lambda: fake_slack.calls("chat.postMessage"), timeout=5)
        job = wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == SENT and j)
    assert job.attempts == 1 and job.receipt["ts"] and job.receipt["channel"].startswith("C")


@pytest.mark.slow
def test_500s_then_429_retry_after_then_200(settings: Settings, fake_slack: FakeSlack) -> None:
    """Slack failing 500, then rate limiting with Retry-After: 2: delivered once, not before Retry-After."""
    fake_slack.fail_next(2, status=500)
    fake_slack.rate_limit_next(1, retry_after=2)
    with running_worker(settings) as delivery:
        accepted = delivery.accept(issue_event(2), notify(slack_target()), 1200, 0)
        job = wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == SENT and j,
                       timeout=20)
    calls = fake_slack.calls("chat.postMessage")
    assert len(calls) == 4 and job.attempts == 4
    assert calls[3].time - calls[2].time >= 2.0
    assert len(fake_slack.messages()) == 1


def test_permanent_error_is_a_dead_letter_and_replay_sends_it(settings: Settings, fake_slack: FakeSlack) -> None:
    """channel_not_found is not retried: dead after one attempt; replay sends it again."""
    fake_slack.error_next(1, "channel_not_found")
    with running_worker(settings) as delivery:
        accepted = delivery.accept(issue_event(3), notify(slack_target()), 1200, 0)
        job_id = jobs_of(delivery, accepted)[0]
        dead = wait_for(lambda: (j := delivery.store.get(job_id)) and j.status == DEAD and j)
        assert dead.attempts == 1 and "channel_not_found" in dead.last_error
        assert [j.id for j in delivery.deliveries(failed=True)] == [job_id]
        assert delivery.replay(job_id)
        assert not delivery.replay(job_id)
        wait_for(lambda: (j := delivery.store.get(job_id)) and j.status == SENT)
    assert len(fake_slack.calls("chat.postMessage")) == 2


@pytest.mark.slow
def test_attempts_exhausted_is_dead(settings: Settings, fake_slack: FakeSlack) -> None:
    """A target failing every time is dead after ROUTER_RETRY_ATTEMPTS attempts."""
    fake_slack.fail_next(10, status=503)
    with running_worker(settings.replace(retry_attempts=3)) as delivery:
        accepted = delivery.accept(issue_event(4), notify(slack_target()), 1200, 0)
        job = wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == DEAD and j,
                       timeout=20)
    assert job.attempts == 3 and "503" in job.last_error and "gave up after 3" in job.last_error


@pytest.mark.slow
def test_throttle_suppresses_and_reports_the_count(settings: Settings, fake_slack: FakeSlack) -> None:
    """One notification per rule, target and issue per window; the next one says how many were suppressed."""
    target = slack_target()
    with running_worker(settings) as delivery:
        ids = []
        for action in ("created", "assigned", "resolved"):
            ids += jobs_of(delivery, delivery.accept(issue_event(5, action), notify(target, throttle=1.5), 1200, 0))
            wait_for(lambda: delivery.store.get(ids[-1]).status in (SENT, SUPPRESSED))  # noqa: B023 - waited on here
        assert [delivery.store.get(i).status for i in ids] == [SENT, SUPPRESSED, SUPPRESSED]
        time.sleep(1.6)
        last = jobs_of(delivery,
                       delivery.accept(issue_event(5, "unresolved"), notify(target, throttle=1.5), 1200, 0))[0]
        wait_for(lambda: delivery.store.get(last).status == SENT)
        other = jobs_of(delivery, delivery.accept(issue_event(6), notify(target, throttle=1.5), 1200, 0))[0]
        wait_for(lambda: delivery.store.get(other).status == SENT)
    texts = [c.params.get("text", "") for c in fake_slack.calls("chat.postMessage")]
    assert len(texts) == 3 and "2" in texts[1] and "suppressed" in texts[1]


def test_duplicate_content_notifies_once(settings: Settings, fake_slack: FakeSlack) -> None:
    """The same resource, action and subject within the window is a duplicate, whatever its Request-ID."""
    with running_worker(settings) as delivery:
        answers = [delivery.accept(issue_event(7), notify(slack_target()), 1200, 0) for _ in range(3)]
        wait_for(lambda: fake_slack.calls("chat.postMessage"))
        time.sleep(0.3)
    assert [a.duplicate for a in answers] == [False, True, True]
    assert len(fake_slack.calls("chat.postMessage")) == 1


def test_smtp_down_then_up_delivers(settings: Settings) -> None:
    """Email to an SMTP server that is down at first arrives once it is up."""
    port = free_port()
    email = Target(name="mail", type="email", options={"to": ["ops@example.com"]})
    smtp = FakeSMTP()
    with running_worker(settings.replace(smtp_url=f"smtp://127.0.0.1:{port}")) as delivery:
        job_id = jobs_of(delivery, delivery.accept(issue_event(8), notify(email), 1200, 0))[0]
        wait_for(lambda: delivery.store.get(job_id).attempts >= 2, timeout=15)
        assert delivery.store.get(job_id).status != SENT
        controller = Controller(_Collector(smtp), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            wait_for(lambda: delivery.store.get(job_id).status == SENT, timeout=20)
        finally:
            controller.stop()
    assert len(smtp.messages) == 1 and smtp.envelopes[0][1] == ["ops@example.com"]


def test_backoff_grows_spans_the_deadline_and_honours_retry_after() -> None:
    """Nominal delays add up to the deadline; each is jittered to 50–100 %; Retry-After is a floor."""
    policy = RetryPolicy(attempts=8, deadline=3600, base=2)
    nominal = [policy.base * policy.factor() ** i for i in range(7)]
    assert abs(sum(nominal) - 3600) < 1 and nominal[0] == 2
    for attempt in range(1, 8):
        d = policy.delay(attempt)
        assert nominal[attempt - 1] * 0.5 <= d <= nominal[attempt - 1]
    assert policy.delay(1, retry_after=30) == 30
    assert policy.next_retry(8, 0, 3600) is None and policy.next_retry(1, 3599, 3600) is None


def test_worker_sends_with_the_live_target_and_dead_letters_a_removed_masked_one(tmp_path) -> None:
    """Jobs store no credentials: the worker uses the target as the rules define it now; a removed one whose
    stored copy was masked becomes a dead letter that names the fix (restore it, then replay)."""
    from router.delivery import Outbox
    from router.delivery.deliverer import job_target
    from router.rules.load import load_rules_text
    from router.rules.model import Target

    rules = load_rules_text("version: 1\ntargets:\n  hook:\n    type: apprise\n    url: json://u:pw-s3cret@127.0.0.1:9/x\n"
                            "rules:\n  - name: all\n    match: {}\n    notify: [hook]\n", "r.yaml")
    settings = Settings(client_secrets=("s",), db_path=str(tmp_path / "r.sqlite3"))
    delivery = Outbox.from_settings(settings)
    event = issue_event(1)
    accepted = delivery.accept(event, notify(rules.targets["hook"]), 0, 0)
    job = delivery.store.get(delivery.fan_out(accepted.webhook_id)[0])
    assert "pw-s3cret" not in json.dumps(job.payload) and job.payload["masked"] is True
    assert job_target(job, rules.targets) is rules.targets["hook"]
    with pytest.raises(DeliveryError, match="no longer in the rules.*replay"):
        job_target(job, {})
    accepted = delivery.accept(issue_event(2), notify(slack_target()), 0, 0)
    plain = delivery.store.get(delivery.fan_out(accepted.webhook_id)[0])
    assert job_target(plain, {}) == Target("oncall", "slack", {"channel": "#oncall", "thread": "none"})


@contextmanager
def redis_job(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[tuple[Any, Any, str, Any]]:
    """A persistent redis-server (stopped afterwards), an outbox on it with one Slack job, and worker w1's
    Deliverer: (server, outbox, job id, deliverer)."""
    from router.delivery import Outbox
    from router.delivery.deliverer import Deliverer
    from tests.fakes.redis_server import RedisServer

    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis", persistent=True)
    try:
        settings = Settings(redis_url=server.url, rules_path=str(tmp_path / "none.yaml"), slack_bot_token=SLACK_TOKEN,
                            slack_api_url=fake_slack.url, templates_path=str(tmp_path / "templates"))
        delivery = Outbox.from_settings(settings)
        job_id = delivery.fan_out(delivery.accept(issue_event(1), notify(slack_target()), 0, 0).webhook_id)[0]
        yield server, delivery, job_id, Deliverer(settings, delivery.store, owner="w1")
    finally:
        server.stop()


@pytest.mark.slow
def test_a_claim_left_by_a_store_outage_is_given_back(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """When the store goes away mid-delivery, the live worker gives its claim back once the store returns
    (retrying, queued again) instead of holding it until the lease runs out."""
    import threading

    from router.store import RETRYING

    with redis_job(tmp_path, fake_slack) as (server, delivery, job_id, deliverer):
        fake_slack.delay = 1.0
        sending = threading.Thread(target=deliverer, args=(job_id,))
        sending.start()
        wait_for(lambda: delivery.store.get(job_id).status == "sending")
        server.stop()                  # the send goes through; recording it fails until the worker gives up
        sending.join(30)
        assert deliverer.claims.settle() == 0  # still down: nothing settled, nothing lost
        server.restart()
        assert deliverer.claims.settle() == 1
        job = delivery.store.get(job_id)
        assert (job.status, job.owner in ("", None, "w1")) == (RETRYING, True) and job.lease_until == 0
        assert delivery.queue_depth() >= 1


def test_a_claim_whose_answer_an_outage_lost_is_given_back(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """When claiming the next due job fails with the store down, the claim may have happened unseen: once the
    store is back, settle() gives back what the worker holds but is not sending (due again now), only once."""
    from router.store import RETRYING, StoreUnavailable

    with redis_job(tmp_path, fake_slack) as (server, delivery, job_id, deliverer):
        server.stop()
        with pytest.raises(StoreUnavailable):
            deliverer.claims.next()
        server.restart()
        assert delivery.store.claim(job_id, "w1", 300, time.time())   # what the lost answer had claimed
        assert deliverer.claims.settle() == 1
        assert delivery.store.get(job_id).status == RETRYING
        claimed = deliverer.claims.next()
        assert claimed is not None and claimed.id == job_id and deliverer.claims.settle() == 0
        assert delivery.store.get(job_id).status == "sending"   # a live send is never given back


def test_settle_never_gives_back_the_batch_a_live_send_carries(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """After a claim whose answer may be lost, settle() gives back only claims the worker does not know of: the
    batch members a send under way claimed are held like it (renewed, never given back), so none goes twice."""
    from router.store import RETRYING, SENDING, StoreUnavailable

    with redis_job(tmp_path, fake_slack) as (server, delivery, lost_id, deliverer):
        store, claims, now = delivery.store, deliverer.claims, time.time()
        carrier_id, member_id = (delivery.fan_out(delivery.accept(issue_event(n), notify(slack_target()), 0, 0)
                                                  .webhook_id)[0] for n in (2, 3))
        assert store.claim(member_id, "w1", 300, now) and store.defer(member_id, "w1", now, now + 100, "b")
        server.stop()
        with pytest.raises(StoreUnavailable):
            claims.next()
        server.restart()
        assert store.claim(lost_id, "w1", 300, now)       # what the lost answer had claimed
        carrier = claims.take(carrier_id)
        assert carrier is not None
        with claims.sending(carrier) as carried:
            assert [j.id for j in claims.batch("b", now, 10)] == [member_id] and carried == [member_id]
            assert claims.settle() == 1 and claims.renew() == 2
            assert [store.get(i).status for i in (lost_id, carrier_id, member_id)] == [RETRYING, SENDING, SENDING]


def test_a_lost_fan_out_task_is_queued_again_after_its_lease(settings: Settings, fake_slack: FakeSlack) -> None:
    """A webhook handed out for fan-out whose task never ran (its worker died after taking it) is handed out
    again once its lease runs out, fanned out and delivered once."""
    from router.delivery import Outbox

    delivery = Outbox.from_settings(settings)
    accepted = delivery.accept(issue_event(11), notify(slack_target()), 1200, 0)
    assert delivery.store.due_inbound(time.time(), 1.0, 10) == [accepted.webhook_id]  # taken; its task is lost
    with running_worker(settings) as running:
        wait_for(lambda: running.store.jobs(10, (SENT,), accepted.webhook_id), timeout=10)
    assert len(fake_slack.calls("chat.postMessage")) == 1


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
@pytest.mark.slow
def test_a_live_send_is_never_claimed_twice(tmp_path: Path, fake_slack: FakeSlack, backend: str,
                                            request: pytest.FixtureRequest) -> None:
    """A send that outlasts its lease keeps its claim while its worker lives (the sweeper renews it): another
    worker recovering orphans and claiming meanwhile gets nothing, and Slack gets one message."""
    import threading

    from router.delivery import Outbox
    from router.delivery.deliverer import Deliverer
    from router.worker.sweeper import Sweeper

    extra = {"redis_url": request.getfixturevalue("redis_server").url} if backend == "redis" else {}
    if extra:
        request.getfixturevalue("redis_server").flush()
    settings = worker_settings(tmp_path, fake_slack.url, **extra)
    delivery = Outbox.from_settings(settings)
    job_id = delivery.fan_out(delivery.accept(issue_event(1), notify(slack_target()), 0, 0).webhook_id)[0]
    first = Deliverer(settings, delivery.store, owner="w1", lease=1.5)
    sweeper = Sweeper(delivery, "w1", 1.0, 3600, first)
    sweeper.beat()
    sweeper.start()
    other = Deliverer(settings, delivery.store, owner="w2", lease=1.5)
    fake_slack.delay = 4.5                     # three leases long (renewed every 0.3 s)
    sending = threading.Thread(target=first, args=(job_id,))
    try:
        sending.start()
        wait_for(lambda: delivery.store.get(job_id).status == "sending")
        while sending.is_alive():              # what another worker's sweeper and threads do meanwhile
            delivery.store.recover_orphans(time.time())
            other(job_id)
            time.sleep(0.1)
    finally:
        sending.join(30)
        sweeper.stop()
    job = delivery.store.get(job_id)
    assert (job.status, job.attempts, job.owner) == (SENT, 1, "w1")
    assert len(fake_slack.calls("chat.postMessage")) == 1
