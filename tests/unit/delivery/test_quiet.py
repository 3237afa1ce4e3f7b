"""The worker's quiet step against FakeSlack: silences and quiet hours suppress, recorded with their reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from router.delivery import Outbox
from router.rules.model import MatchResult, Notification, Rule
from router.rules.silence import new_silence
from router.settings import Settings
from router.store import SENT, SUPPRESSED
from router.store.silences import silences_of
from tests.fakes.fixtures import fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.delivery import issue_event, jobs_of, notify, running_worker, slack_target, wait_for, worker_settings

RULES = """\
version: 1
targets:
  log: {type: console}
time_intervals:
  - name: always
    time_intervals: [{times: [{start_time: "00:00", end_time: "24:00"}]}]
  - name: never
    time_intervals: [{years: ["2001"]}]
rules:
  - name: all
    match: {}
    notify: log
"""


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    """Worker settings whose rules file defines the intervals `always` and `never`."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    return worker_settings(tmp_path, fake_slack.url, rules_path=str(rules))


def outcome(delivery: Outbox, event_n: int, action: str, result: MatchResult | None = None) -> tuple[str, str]:
    """Accept issue `event_n`'s webhook `action` and wait for its one job to finish: (status, last_error)."""
    accepted = delivery.accept(issue_event(event_n, action), result or notify(slack_target()), 1200, 0)
    job_id = jobs_of(delivery, accepted)[0]
    job = wait_for(lambda: (j := delivery.store.get(job_id)) and j.status in (SENT, SUPPRESSED) and j)
    return job.status, job.last_error


def silence(delivery: Outbox, silence_id: str, **spec: object) -> None:
    """Add a silence to the shared store, as the API and CLI do."""
    silences_of(delivery.store).add(new_silence(spec, time.time(), silence_id))


def test_silenced_then_expired_notifies_again(settings: Settings, fake_slack: FakeSlack) -> None:
    """A webhook matching an active silence is suppressed with the silence's id; once ended, the next one is sent."""
    with running_worker(settings) as delivery:
        silence(delivery, "sil-1", match={"issue_id": "9001"}, duration="1h")
        assert outcome(delivery, 1, "created") == (SUPPRESSED, "sil-1")
        assert outcome(delivery, 2, "created")[0] == SENT            # another issue: not silenced
        silences_of(delivery.store).end("sil-1", time.time(), "expired")
        assert outcome(delivery, 1, "assigned")[0] == SENT
    assert len(fake_slack.messages()) == 2


def test_until_resolved_ends_with_the_issues_resolve(settings: Settings, fake_slack: FakeSlack) -> None:
    """A silence until an issue is resolved holds its webhooks back; the resolve itself is sent and ends it."""
    with running_worker(settings) as delivery:
        silence(delivery, "sil-r", match={"issue_id": "9005"}, until_resolved=True)
        assert outcome(delivery, 5, "assigned") == (SUPPRESSED, "sil-r")
        assert outcome(delivery, 5, "resolved")[0] == SENT
        assert outcome(delivery, 5, "unresolved")[0] == SENT
        ended = silences_of(delivery.store).listed(time.time())[0]
    assert ended.ended_why == "issue resolved" and not ended.active(time.time())


@pytest.mark.parametrize("mute, active, expected", [
    (("always",), (), (SUPPRESSED, "mute_time_interval:always")),
    ((), ("never",), (SUPPRESSED, "active_time_intervals:never")),
    (("never",), ("always",), (SENT, "")),
])
def test_quiet_hours_suppress_with_reason(settings: Settings, fake_slack: FakeSlack, mute: tuple[str, ...],
                                          active: tuple[str, ...], expected: tuple[str, str]) -> None:
    """A rule's mute/active time intervals, read from the live rules, decide at send time; the reason names them."""
    target = slack_target()
    rule = Rule(name="quiet", match=None, notify=(target.name,), mute_time_intervals=mute, active_time_intervals=active)
    with running_worker(settings) as delivery:
        assert outcome(delivery, 7, "created", MatchResult(("quiet",), (Notification(rule, target),))) == expected
    assert len(fake_slack.messages()) == (1 if expected[0] == SENT else 0)


def test_redis_store_silence_suppresses_then_ends(tmp_path: Path, fake_slack: FakeSlack, redis_server) -> None:
    """On Redis too: a silence added through one handle suppresses in a worker on another; ended, the next is sent."""
    from router.delivery.deliverer import Deliverer
    from router.store.redis import RedisStore

    redis_server.flush()
    settings = worker_settings(tmp_path, fake_slack.url, redis_url=redis_server.url)
    delivery = Outbox.from_settings(settings)
    deliverer = Deliverer(settings, delivery.store, owner="w1")
    silences_of(RedisStore(redis_server.url)).add(new_silence({"match": {"project": {"exists": True}},
                                                               "duration": "1h"}, time.time(), "sil-redis"))

    def run(n: int) -> tuple[str, str]:
        job_id = delivery.fan_out(delivery.accept(issue_event(n), notify(slack_target()), 0, 0).webhook_id)[0]
        deliverer(job_id)
        job = delivery.store.get(job_id)
        return job.status, job.last_error

    assert run(21) == (SUPPRESSED, "sil-redis")
    silences_of(RedisStore(redis_server.url)).end("sil-redis", time.time(), "expired")
    assert run(22) == (SENT, "")
