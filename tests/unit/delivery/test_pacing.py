"""Pacing per Slack channel (DESIGN 3.4) against FakeSlack in its rate-enforcing mode, over both stores."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.delivery.fanout import job_event
from router.delivery.pacing import Budget, budget_for
from router.rules.model import Target
from router.settings import Settings
from router.store import QUEUED, SENDING, SENT, Store, gcra
from tests.fakes.fixtures import SLACK_TOKEN
from tests.fakes.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import SLACK_RATE, FakeSlack
from tests.support.delivery import issue_event, jobs_of, notify, running_worker, slack_target, wait_for, worker_settings
from tests.support.threads import about, threaded_target
from tests.unit.store.test_store import NOW, job, put, store  # noqa: F401  (fixture)


@pytest.fixture
def rated_slack() -> Iterator[FakeSlack]:
    """FakeSlack enforcing Slack's per-channel rate (burst 5, then 1 chat.postMessage/s, 429 beyond)."""
    with FakeSlack(token=SLACK_TOKEN, rate=SLACK_RATE) as slack:
        yield slack


@pytest.fixture(params=["sqlite", "redis"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, rated_slack: FakeSlack) -> Settings:
    """Worker settings on each store kind, the rate-enforcing FakeSlack as the Slack API."""
    base = worker_settings(tmp_path, rated_slack.url)
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        return base.replace(redis_url=server.url)
    return base


def text_of(message: dict) -> str:
    """What a Slack message shows (fallback text and blocks)."""
    return json.dumps([message.get("text"), message.get("blocks")], ensure_ascii=False)


# -- the budget ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tat, now, hold, slot, after", [
    (0.0, 100.0, 0.0, 100.0, 101.0),      # a fresh budget: at once
    (103.0, 100.0, 0.0, 100.0, 104.0),    # within the burst (3 s of tolerance with burst 4): still at once
    (104.0, 100.0, 0.0, 101.0, 105.0),    # burst used up: the next free second
    (0.0, 100.0, 2.0, 102.0, 105.0),      # a 429's Retry-After: shut for 2 s, then one at a time
])
def test_gcra_step(tat: float, now: float, hold: float, slot: float, after: float) -> None:
    """The budget lets a burst through at once, then one per interval; a hold shuts it and allows no burst after."""
    assert gcra(tat, now, 1.0, 4, hold) == (slot, after)


def test_pace_is_shared_and_held_in_the_store(store: Store) -> None:
    """Reservations on one key come from one budget (burst, then spaced), others are apart; a hold delays it."""
    slots = [store.pace("slack:#a", 1.0, 2, NOW) for _ in range(4)]
    assert slots == [NOW, NOW, NOW + 1.0, NOW + 2.0]
    assert store.pace("slack:#b", 1.0, 2, NOW) == NOW
    assert store.pace("slack:#b", 1.0, 2, NOW, hold=30.0) == NOW + 30.0
    assert store.pace("slack:#b", 1.0, 2, NOW + 1) == NOW + 30.0


def test_deferred_jobs_are_claimed_as_one_batch(store: Store) -> None:
    """A deferred job waits in its batch uncounted; claiming the batch takes every waiting member, due or not."""
    a, b, c, other = job(), job(now=NOW + 1), job(now=NOW + 2), job()
    put(store, [a, b, c, other])
    for j in (a, b, c, other):
        assert store.claim(j.id, "w", 60, NOW + 3).attempts == 1
    assert store.defer(a.id, "w", NOW + 3, NOW + 50, "card:x") and store.defer(b.id, "w", NOW + 3, NOW + 55, "card:x")
    assert store.defer(other.id, "w", NOW + 3, NOW + 50, "card:y")
    assert not store.defer(a.id, "w", NOW + 3, NOW + 50, "card:x")        # no longer ours
    assert (store.get(a.id).status, store.get(a.id).attempts, store.get(a.id).next_at) == (QUEUED, 0, NOW + 50)
    claimed = store.claim_batch("card:x", "w2", 60, NOW + 4, 10)
    assert [j.id for j in claimed] == [a.id, b.id] and {j.status for j in claimed} == {SENDING}
    assert store.get(c.id).status == SENDING and store.get(other.id).status == QUEUED
    assert store.claim_batch("card:x", "w2", 60, NOW + 4, 10) == []


# -- the worker against a rate-enforcing Slack --------------------------------------------------------------
@pytest.mark.slow
def test_a_burst_of_follow_ups_becomes_one_reply_and_nothing_meets_a_429(settings: Settings,
                                                                       rated_slack: FakeSlack) -> None:
    """A card and 24 follow-ups at once: no 429, every notification sent, the late ones carried by one digest
    reply that lists each, the card edited to count them, and each ledger entry naming its message."""
    target = threaded_target()
    with running_worker(settings) as delivery:
        accepted = [delivery.accept(about("8801"), notify(target), 1200, 0)]
        accepted += [delivery.accept(about("8801", "error", n=i), notify(target), 1200, 0) for i in range(24)]
        ids = [jobs_of(delivery, a)[0] for a in accepted]
        jobs = wait_for(lambda: (js := [delivery.store.get(i) for i in ids]) and
                        all(j.status == SENT for j in js) and js, timeout=30)
    assert rated_slack.rate_limited() == []
    posts = rated_slack.calls("chat.postMessage")
    assert len(posts) < 10
    [card_ts] = [m["ts"] for m in rated_slack.top_level()]
    digests = [j for j in jobs if j.receipt.get("kind") == "digest"]
    assert digests and all(j.receipt["thread_ts"] == card_ts for j in digests)
    messages = {ts: text_of(m) for (_, ts), m in rated_slack.messages().items()}
    for j in jobs[1:]:   # every follow-up is in the message its ledger entry names, and in no other
        title = re.compile(re.escape(job_event(delivery.store, j).to_dict()["data"]["error"]["title"]) + r"(?!\d)")
        assert j.receipt["thread_ts"] == card_ts or j.receipt["ts"] == card_ts
        assert title.search(messages[j.receipt["ts"]])
        assert sum(bool(title.search(text)) for text in messages.values()) == 1
    counted = delivery.store.kv_get("thread:#oncall:8801:events")
    assert counted == str(len(jobs) - 1)   # the thread's count; the card shows it as of its last edit
    shown = int(re.search(r"💬 (\d+) in thread", messages[card_ts]).group(1))
    assert max(j.receipt.get("items", 0) for j in digests) <= shown <= len(jobs) - 1


def test_a_429_closes_the_channel_for_everyone_until_retry_after(settings: Settings, rated_slack: FakeSlack) -> None:
    """After a 429 with Retry-After 30, the channel's other notifications wait (queued past it, no call made),
    while another channel is served at once."""
    oncall, other = slack_target(), slack_target("other", "#other")
    with running_worker(settings) as delivery:
        rated_slack.rate_limit_next(1, retry_after=30)
        first = jobs_of(delivery, delivery.accept(issue_event(1), notify(oncall), 1200, 0))[0]
        wait_for(lambda: delivery.store.get(first).status == "retrying")
        later = [jobs_of(delivery, delivery.accept(issue_event(n), notify(oncall), 1200, 0))[0] for n in (2, 3)]
        elsewhere = jobs_of(delivery, delivery.accept(issue_event(4), notify(other), 1200, 0))[0]
        wait_for(lambda: delivery.store.get(elsewhere).status == SENT)
        wait_for(lambda: (js := [delivery.store.get(i) for i in later]) and   # given back to wait for the channel
                 all(j.status == QUEUED and j.attempts == 0 and j.next_at >= time.time() + 20 for j in js))
    oncall_id = FakeSlack.channel_id("#oncall")
    assert [c.params["channel"] for c in rated_slack.calls("chat.postMessage")].count("#oncall") == 1
    assert not any(k[0] == oncall_id for k in rated_slack.messages())


@pytest.mark.slow
def test_a_top_level_backlog_goes_out_as_digests(settings: Settings, rated_slack: FakeSlack) -> None:
    """20 top-level notifications (`thread: none`) at once: a burst, then digests listing the rest; no 429,
    nothing lost or doubled, and every ledger entry names the message that carried it."""
    target = slack_target()
    with running_worker(settings) as delivery:
        ids = [jobs_of(delivery, delivery.accept(issue_event(n, title=f"storm item {n:02d}"), notify(target),
                                                 1200, 0))[0] for n in range(20)]
        jobs = wait_for(lambda: (js := [delivery.store.get(i) for i in ids]) and
                        all(j.status == SENT for j in js) and js, timeout=30)
    assert rated_slack.rate_limited() == [] and len(rated_slack.calls("chat.postMessage")) < 10
    messages = {ts: text_of(m) for (_, ts), m in rated_slack.messages().items()}
    for n, j in enumerate(jobs):
        assert f"storm item {n:02d}" in messages[j.receipt["ts"]]
        assert sum(f"storm item {n:02d}" in text for text in messages.values()) == 1
    assert any(j.receipt.get("kind") == "digest" and j.receipt.get("items", 0) > 1 for j in jobs)


@pytest.mark.parametrize("target, env, expected", [
    (Target("a", "slack", {"channel": "#ops"}), {}, Budget("slack:#ops", 1 / 0.9, 4)),
    (Target("a", "slack", {"channel": "#ops"}), {"ROUTER_SLACK_RATE": "0"}, None),
    (Target("hook", "slack", {"webhook_url": "https://hooks.slack.com/x"}), {},
     Budget("slack-webhook:hook", 1 / 0.9, 4)),
    (Target("mail", "email", {"to": ["a@example.com"]}), {}, None),
    (Target("mail", "email", {"to": ["a@example.com"]}), {"ROUTER_EMAIL_RATE": "6"}, Budget("email:mail", 10.0, 3)),
    (Target("chat", "apprise", {"url": "json://x"}), {"ROUTER_APPRISE_RATE": "30"}, Budget("apprise:chat", 2.0, 3)),
    (Target("log", "console", {}), {"ROUTER_APPRISE_RATE": "30"}, None),
])
def test_which_targets_are_paced(target: Target, env: dict, expected: Budget | None) -> None:
    """Slack channels are paced by default; email and Apprise targets only with their ROUTER_*_RATE set."""
    assert budget_for(target, Settings.from_env(env)) == expected


def test_pacing_off_sends_each_at_once(tmp_path: Path, rated_slack: FakeSlack) -> None:
    """ROUTER_SLACK_RATE=0 turns pacing off: every notification is its own message (as before pacing)."""
    settings = worker_settings(tmp_path, rated_slack.url, slack_rate=0.0)
    with running_worker(settings) as delivery:
        ids = [jobs_of(delivery, delivery.accept(issue_event(n), notify(slack_target()), 1200, 0))[0]
               for n in range(3)]
        wait_for(lambda: all(delivery.store.get(i).status == SENT for i in ids))
    assert all(delivery.store.get(i).receipt.get("kind") != "digest" for i in ids)
    assert len(rated_slack.calls("chat.postMessage")) == 3


@pytest.mark.slow
def test_a_rated_email_target_sends_its_backlog_as_digest_emails(tmp_path: Path) -> None:
    """ROUTER_EMAIL_RATE: a burst of 12 notifications to one email target becomes a few emails (a burst, then
    digests listing the rest), none lost or doubled, each ledger entry naming the email's send."""
    from tests.fakes.smtp import FakeSMTP

    with FakeSMTP() as smtp:
        settings = worker_settings(tmp_path, "http://127.0.0.1:9/api/", smtp_url=smtp.url, email_rate=60.0)
        target = Target("team", "email", {"to": "team@example.com"})
        with running_worker(settings) as delivery:
            ids = [jobs_of(delivery, delivery.accept(issue_event(n, title=f"mail item {n:02d}"), notify(target),
                                                     1200, 0))[0] for n in range(12)]
            jobs = wait_for(lambda: (js := [delivery.store.get(i) for i in ids]) and
                            all(j.status == SENT for j in js) and js, timeout=30)
        mails = [m.get_body(("plain",)).get_content() for m in smtp.messages]
    assert 3 <= len(mails) < 8
    for n in range(12):
        assert sum(f"mail item {n:02d}" in text for text in mails) == 1
    assert any(j.receipt.get("kind") == "digest" and j.receipt.get("items", 0) > 1 for j in jobs)
