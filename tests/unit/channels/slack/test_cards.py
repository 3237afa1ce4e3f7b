"""Slack threads (DESIGN 1.6) through the real worker against FakeSlack: one live card per issue or incident."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.channels.slack.client import SlackChannel
from router.delivery import Outbox
from router.render import Message
from router.sentry import build
from router.settings import Settings
from router.store import RETRYING, SENT
from tests.conftest import fixture_payload
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.delivery import jobs_of, notify, running_worker, wait_for, worker_settings
from tests.support.threads import about, incident, send, threaded_target

ONCALL = FakeSlack.channel_id("#oncall")


def text_of(call_or_message: object) -> str:
    """Everything a message shows (fallback text and blocks), for substring checks."""
    params = getattr(call_or_message, "params", call_or_message)
    return json.dumps(params, ensure_ascii=False)


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    """Settings on a private SQLite store, FakeSlack as the Slack API, fast retries."""
    return worker_settings(tmp_path, fake_slack.url)


@pytest.fixture
def delivery(settings: Settings) -> Iterator[Outbox]:
    """A running in-process worker (4 threads) and its Outbox."""
    with running_worker(settings) as d:
        yield d


@pytest.mark.slow
def test_lifecycle_card_reply_updates_and_broadcast(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """created → card; error → reply; assigned/resolved/unresolved → card edited + reply; resolved broadcast."""
    target = threaded_target(broadcast=("resolved",))
    card = send(delivery, about("9101"), target)
    assert card.receipt["kind"] == "card" and card.receipt["thread_ts"] is None
    ts = card.receipt["ts"]
    error = send(delivery, about("9101", "error", n=1), target)
    assert error.receipt["kind"] == "reply" and error.receipt["thread_ts"] == ts
    assert fake_slack.calls("chat.postMessage")[-1].params["thread_ts"] == ts
    assigned = send(delivery, about("9101", action="assigned", assignee={"type": "user", "name": "Dana"}), target)
    assert assigned.receipt["updated_ts"] == ts and assigned.receipt["thread_ts"] == ts
    assert "👤 Assigned to Dana" in text_of(fake_slack.messages()[(ONCALL, ts)])
    resolved = send(delivery, about("9101", action="resolved", issue=_resolved_issue("9101", "api@2.4.1")),
                    target)
    shown = text_of(fake_slack.messages()[(ONCALL, ts)])
    assert "✅ Resolved in release api@2.4.1" in shown and "Thread test 9101" in shown   # content kept
    header = fake_slack.messages()[(ONCALL, ts)]["blocks"][0]["text"]["text"]
    assert header.startswith("✅ ") and header[2:] == card_header(fake_slack)[2:]   # emoji changed, words kept
    reply = fake_slack.calls("chat.postMessage")[-1].params
    assert reply["thread_ts"] == ts and reply["reply_broadcast"] is True and resolved.receipt["kind"] == "reply"
    send(delivery, about("9101", action="unresolved"), target)
    assert "🔁 Regressed" in text_of(fake_slack.messages()[(ONCALL, ts)])
    assert [m["ts"] for m in fake_slack.top_level() if not m.get("thread_ts")] == [ts]
    assert len(fake_slack.replies(ts)) == 4 and len(fake_slack.calls("chat.update")) == 3


def card_header(slack: FakeSlack) -> str:
    """The header text the card had when it was first posted."""
    first = next(c for c in slack.calls("chat.postMessage") if "thread_ts" not in c.params)
    return first.params["blocks"][0]["text"]["text"]


def _resolved_issue(issue_id: str, release: str) -> dict:
    issue = fixture_payload("issue.resolved")["data"]["issue"]
    return {**issue, "id": issue_id, "title": f"Thread test {issue_id}", "statusDetails": {"inRelease": release}}


def test_comment_event_alert_and_activity_alert_reply_without_broadcast(delivery: Outbox,
                                                                      fake_slack: FakeSlack) -> None:
    """Comments and event alerts (by issue_id) and activity alerts (by issue id) go into the card's thread."""
    target = threaded_target(broadcast=("resolved",))
    ts = send(delivery, about("9102", "event_alert", "triggered", n=1), target).receipt["ts"]
    send(delivery, about("9102", "comment", "created", n=1), target)
    alert = fixture_payload("activity_alert.triggered")
    alert["data"]["issue"]["id"] = "9102"
    send(delivery, build("activity_alert", alert), target)
    replies = [c.params for c in fake_slack.calls("chat.postMessage")[1:]]
    assert [r["thread_ts"] for r in replies] == [ts, ts] and not any(r["reply_broadcast"] for r in replies)


def test_first_notification_is_an_update_action_posts_a_card_with_its_status(delivery: Outbox,
                                                                            fake_slack: FakeSlack) -> None:
    """When the first thing seen about an issue is `issue.ignored`, the card is posted already showing 🔕 Archived."""
    job = send(delivery, about("9103", action="ignored"), threaded_target())
    assert job.receipt["kind"] == "card" and not fake_slack.calls("chat.update")
    assert "🔕 Archived" in text_of(fake_slack.calls("chat.postMessage")[0])


def test_deleted_card_gets_a_fresh_card_and_the_reply_goes_there(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """Card deleted in Slack (thread_not_found on reply): a fresh card is posted and the notification is not lost."""
    target = threaded_target()
    old = send(delivery, about("9104"), target).receipt["ts"]
    fake_slack.delete("#oncall", old)
    job = send(delivery, about("9104", "error", n=1), target)
    new = job.receipt["thread_ts"]
    assert new != old and (ONCALL, new) in fake_slack.messages() and job.attempts == 1
    assert [m["ts"] for m in fake_slack.replies(new)] == [job.receipt["ts"]]
    later = send(delivery, about("9104", "error", n=2), target)
    assert later.receipt["thread_ts"] == new


@pytest.mark.parametrize("code", ["cant_update_message", "edit_window_closed", "message_not_found"])
def test_refused_card_edit_posts_a_fresh_card_with_the_status(delivery: Outbox, fake_slack: FakeSlack,
                                                              code: str) -> None:
    """chat.update refused (too old, not ours, gone): a fresh card with the new status, the reply in its thread."""
    target = threaded_target()
    old = send(delivery, about("9105"), target).receipt["ts"]
    fake_slack.error_on("chat.update", code)
    job = send(delivery, about("9105", action="resolved"), target)
    new = job.receipt["thread_ts"]
    assert new != old and job.receipt["updated_ts"] == new and job.status == SENT
    assert "✅ Resolved" in text_of(fake_slack.messages()[(ONCALL, new)])
    assert "Thread test 9105" in text_of(fake_slack.messages()[(ONCALL, new)])
    assert len(fake_slack.replies(new)) == 1


def test_retry_after_a_failed_reply_does_not_post_it_twice(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """Card edited, then the reply fails retryably: the retry edits again (harmless) and replies exactly once."""
    target = threaded_target()
    ts = send(delivery, about("9106"), target).receipt["ts"]
    fake_slack.error_on("chat.postMessage", "internal_error")
    job = send(delivery, about("9106", action="assigned"), target)
    assert job.attempts == 2 and len(fake_slack.replies(ts)) == 1
    assert [c.method for c in fake_slack.calls()[1:]] == ["chat.update", "chat.postMessage", "chat.update",
                                                          "chat.postMessage"]


def test_thread_none_sends_everything_top_level(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """`thread: none`: every notification is a new top-level message and nothing is edited."""
    target = threaded_target(thread="none")
    for event in (about("9107"), about("9107", "error", n=1), about("9107", action="resolved")):
        send(delivery, event, target)
    assert len(fake_slack.top_level()) == 3 and not fake_slack.calls("chat.update")
    assert delivery.store.kv_get("thread:#oncall:9107") is None


@pytest.mark.parametrize("name", ["installation.created", "installation.deleted",
                                  "preprod_artifact.size_analysis_completed"])
def test_events_without_a_subject_post_top_level(delivery: Outbox, fake_slack: FakeSlack, name: str) -> None:
    """Events about neither an issue nor an incident (installations, builds) post top level, with no card."""
    target = threaded_target()
    job = send(delivery, build(name.split(".")[0], fixture_payload(name)), target)
    assert len(fake_slack.top_level()) == 1 and "kind" not in job.receipt
    assert all("thread_ts" not in c.params for c in fake_slack.calls("chat.postMessage"))


def test_two_channels_get_a_card_each(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """The mapping is per channel: one issue notified to two channels has a card in each."""
    a, b = threaded_target("a", "#alpha"), threaded_target("b", "#beta")
    jobs = jobs_of(delivery, delivery.accept(about("9108"), notify(a, b), 1200, 0))
    assert len(jobs) == 2
    wait_for(lambda: all(delivery.store.get(j).status == SENT for j in jobs))
    assert len(fake_slack.top_level("#alpha")) == 1 and len(fake_slack.top_level("#beta")) == 1


def test_mapping_expires_after_the_ttl(settings: Settings, fake_slack: FakeSlack) -> None:
    """After ROUTER_THREAD_TTL seconds the card is forgotten: the next notification posts a new card."""
    with running_worker(settings.replace(thread_ttl=0.6)) as delivery:
        target = threaded_target()
        first = send(delivery, about("9109"), target).receipt["ts"]
        assert send(delivery, about("9109", "error", n=1), target).receipt["thread_ts"] == first
        time.sleep(0.8)
        again = send(delivery, about("9109", "error", n=2), target)
    assert again.receipt["kind"] == "card" and again.receipt["ts"] != first


def test_ttl_setting_is_read_from_the_environment() -> None:
    """ROUTER_THREAD_TTL is a setting with a 30-day default."""
    assert Settings.from_env({}).thread_ttl == 30 * 86400
    assert Settings.from_env({"ROUTER_THREAD_TTL": "3600"}).thread_ttl == 3600


def test_card_being_posted_elsewhere_is_retried_shortly_as_a_reply(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """While another worker holds the creating lock, a notification waits (retrying), then replies to the card."""
    target = threaded_target()
    delivery.store.kv_set("thread:#oncall:9110:creating", "someone-else", 30)
    accepted = delivery.accept(about("9110", "error", n=1), notify(target), 1200, 0)
    job = wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == RETRYING and j)
    assert "being posted by another worker" in job.last_error and not fake_slack.calls()
    posted = SlackChannel("#oncall", SLACK_TOKEN, fake_slack.url).post(Message("slack", "card", "the card"))
    card = {"ts": posted["ts"], "channel_id": posted["channel"], "event": about("9110").to_dict()}
    delivery.store.kv_set("thread:#oncall:9110", json.dumps(card))     # what the lock holder stores…
    delivery.store.kv_delete("thread:#oncall:9110:creating")            # …before letting go of the lock
    done = wait_for(lambda: (j := delivery.store.get(jobs_of(delivery, accepted)[0])) and j.status == SENT and j)
    assert done.receipt["thread_ts"] == posted["ts"] and len(fake_slack.top_level()) == 1


@pytest.mark.slow
def test_api_calls_per_lifecycle(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """created → 10 errors → assigned → resolved: 13 posts + 2 edits, 1 message in the channel (none: 13)."""
    target = threaded_target()
    events = [about("9111")] + [about("9111", "error", n=i) for i in range(10)]
    for event in events + [about("9111", action="assigned"), about("9111", action="resolved")]:
        send(delivery, event, target)
    methods = [c.method for c in fake_slack.calls()]
    assert methods.count("chat.postMessage") == 13 and methods.count("chat.update") == 2 and len(methods) == 15
    assert len(fake_slack.top_level()) == 1


def test_which_notifications_thread_and_broadcast() -> None:
    """Only Web API targets with thread: issue thread (webhooks never); `archived` in broadcast also names ignored."""
    from router.channels.slack.cards import broadcasts, threaded
    from router.rules.model import Target

    event = about("9112", action="ignored")
    assert threaded(Target("t", "slack", {"channel": "#c"}), event)
    assert not threaded(Target("t", "slack", {"webhook_url": "https://hooks.slack.com/x", "thread": "issue"}), event)
    assert not threaded(threaded_target(thread="none"), event)
    assert broadcasts(threaded_target(broadcast=("archived",)), event)
    assert broadcasts(threaded_target(broadcast=("issue.ignored",)), event)
    assert not broadcasts(threaded_target(broadcast=("resolved",)), event)


# -- metric-alert incidents: one live card per incident -------------------------------------------------------


def card_of(slack: FakeSlack, ts: str) -> dict:
    """The card at `ts` as it stands now."""
    return slack.messages()[(ONCALL, ts)]


def test_incident_lifecycle_one_card_edited_replies_and_broadcast(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """critical → card; warning → reply + card edited to 🟡 Warning; resolved → broadcast reply + ✅ Resolved."""
    target = threaded_target(broadcast=("resolved",))
    critical = send(delivery, incident("31", "critical"), target)
    ts = critical.receipt["ts"]
    assert critical.receipt["kind"] == "card" and "*🔴" not in text_of(card_of(fake_slack, ts))
    assert delivery.store.kv_get("thread:#oncall:incident:31") is not None
    warning = send(delivery, incident("31", "warning", events=40), target)
    assert (warning.receipt["kind"], warning.receipt["thread_ts"], warning.receipt["updated_ts"]) == ("reply", ts, ts)
    card = card_of(fake_slack, ts)
    assert card["blocks"][0]["text"]["text"].startswith("🟡 ") and "*🟡 Warning*" in text_of(card)
    assert "40 events" in text_of(card)                 # an incident's card shows its latest state
    assert fake_slack.calls("chat.postMessage")[-1].params["reply_broadcast"] is False
    resolved = send(delivery, incident("31", "resolved", events=3), target)
    card = card_of(fake_slack, ts)
    assert card["blocks"][0]["text"]["text"].startswith("✅ ") and "*✅ Resolved*" in text_of(card)
    reply = fake_slack.calls("chat.postMessage")[-1].params
    assert reply["thread_ts"] == ts and reply["reply_broadcast"] is True and resolved.receipt["updated_ts"] == ts
    methods = [c.method for c in fake_slack.calls()]
    assert methods == ["chat.postMessage", "chat.update", "chat.postMessage", "chat.update", "chat.postMessage"]
    assert len(fake_slack.replies(ts)) == 2 and [m["ts"] for m in fake_slack.top_level()][0] == ts


def test_incident_critical_again_after_warning_edits_the_card_back(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """critical → warning → critical: the card ends 🔴 Critical, with both later ones as replies."""
    target = threaded_target()
    # dedup_window 0: the test reuses descriptions; a real second `critical` differs in its metric value (dedup.py)
    ts = send(delivery, incident("32", "critical"), target, dedup_window=0).receipt["ts"]
    send(delivery, incident("32", "warning"), target, dedup_window=0)
    send(delivery, incident("32", "critical", events=5000), target, dedup_window=0)
    card = card_of(fake_slack, ts)
    assert card["blocks"][0]["text"]["text"].startswith("🔴 ") and "*🔴 Critical*" in text_of(card)
    assert len(fake_slack.replies(ts)) == 2 and len(fake_slack.top_level()) == 1


def test_second_incident_of_the_same_rule_gets_its_own_card(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """Two incidents of one alert rule are two cards: the key is the incident, not the rule."""
    target = threaded_target()
    first = send(delivery, incident("33", "critical", rule_id="7"), target).receipt["ts"]
    send(delivery, incident("33", "resolved", rule_id="7"), target)
    second = send(delivery, incident("34", "critical", rule_id="7"), target)
    assert second.receipt["kind"] == "card" and second.receipt["ts"] != first
    assert len(fake_slack.top_level()) == 2 and len(fake_slack.replies(first)) == 1
    assert not fake_slack.replies(second.receipt["ts"])


def test_first_news_of_an_incident_posts_its_card_as_is(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """An incident first seen at `resolved` posts its card as a top-level metric alert always looked, no edit."""
    job = send(delivery, incident("35", "resolved"), threaded_target())
    posted = fake_slack.calls("chat.postMessage")[0].params
    assert job.receipt["kind"] == "card" and not fake_slack.calls("chat.update")
    assert posted["blocks"][0]["text"]["text"].startswith("✅ Metric alert resolved") and "thread_ts" not in posted


def test_incident_card_gone_gets_a_fresh_card_with_the_status(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """The incident card deleted in Slack: the next notification posts a fresh card (with its status), then replies."""
    target = threaded_target()
    old = send(delivery, incident("36", "critical"), target).receipt["ts"]
    fake_slack.delete("#oncall", old)
    fake_slack.error_on("chat.update", "message_not_found")
    job = send(delivery, incident("36", "warning"), target)
    new = job.receipt["thread_ts"]
    assert new != old and "*🟡 Warning*" in text_of(card_of(fake_slack, new)) and len(fake_slack.replies(new)) == 1


def test_incident_thread_none_stays_top_level(delivery: Outbox, fake_slack: FakeSlack) -> None:
    """`thread: none`: each metric alert is its own top-level message, as before."""
    target = threaded_target(thread="none")
    for action in ("critical", "warning", "resolved"):
        send(delivery, incident("37", action), target)
    assert len(fake_slack.top_level()) == 3 and not fake_slack.calls("chat.update")
    assert delivery.store.kv_get("thread:#oncall:incident:37") is None


@pytest.mark.parametrize("action, line, emoji", [
    ("critical", "🔴 Critical", "🔴"), ("warning", "🟡 Warning", "🟡"), ("resolved", "✅ Resolved", "✅"),
])
def test_incident_status_lines(action: str, line: str, emoji: str) -> None:
    """Each metric alert action edits an incident card to its severity; the first card carries none."""
    from router.channels.slack.status import card_status, first_card_status

    status = card_status(incident("38", action))
    assert status is not None and (status.line, status.emoji) == (line, emoji)
    assert first_card_status(incident("38", action)) is None


@pytest.mark.parametrize("event, key", [
    (about("9120"), "thread:#oncall:9120"),                       # issue cards keep their old keys
    (about("9120", "error", n=1), "thread:#oncall:9120"),
    (incident("39"), "thread:#oncall:incident:39"),
])
def test_card_keys(event: object, key: str) -> None:
    """Issue cards are stored under `thread:{channel}:{issue_id}` as before; incidents under `…:incident:{id}`."""
    from router.channels.slack.cards import card_key

    assert card_key(threaded_target(), event) == key
