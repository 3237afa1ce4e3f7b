"""The channel hook: the delivery layer hands a notification to its channel, which decides what to send (one
message, or for Slack a card, a reply in its thread, a card update), keeping threads in a store-backed memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.channels import build_channel
from router.channels.base import Outgoing
from router.channels.console import ConsoleChannel
from router.channels.slack.client import SlackChannel
from router.delivery.memory import StoreMemory
from router.render import Renderer
from router.rules.model import Rule, Target
from router.settings import Settings
from router.store import Store
from router.store.sqlite import SqliteStore
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.redis_server import redis_server  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.render import sample
from tests.support.threads import about, threaded_target
from tests.unit.store.test_store import store  # noqa: F401  (fixture)

RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")
RULE = Rule(name="r", match=None)


def test_one_message_channels_send_each_notification_once_and_a_batch_as_one_digest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A channel without threads (console here) sends one message per notification and one digest per batch."""
    target = Target("log", "console", {})
    channel = build_channel(target, Settings())
    memory = StoreMemory(SqliteStore(str(tmp_path / "r.sqlite3")))
    assert isinstance(channel, ConsoleChannel)
    one = Outgoing(sample("issue.resolved"), target, RULE)
    assert channel.thread_key(one) is None
    channel.deliver(one, RENDERER, memory)
    assert capsys.readouterr().out.startswith("[log] ✅ Issue resolved\n")
    receipt = channel.deliver_batch([one, Outgoing(sample("issue.created"), target, RULE)], RENDERER, memory)
    out = capsys.readouterr().out
    assert (receipt["kind"], receipt["items"]) == ("digest", 2) and out.startswith("[log] 2 Sentry notifications\n")
    assert out.count("Sentry notifications") == 1


def test_thread_memory_over_the_store(store: Store) -> None:
    """The store-backed thread memory: values, a set-if-absent that one caller wins, counts, forgetting."""
    memory = StoreMemory(store)
    assert memory.get("thread:#c:1") is None
    memory.put("thread:#c:1", "card", 60)
    assert memory.get("thread:#c:1") == "card"
    assert memory.put_new("thread:#c:1:creating", "a", 30) and not memory.put_new("thread:#c:1:creating", "b", 30)
    assert memory.add("thread:#c:1:events", 2, 60) == 2 and memory.add("thread:#c:1:events", 1, 60) == 3
    memory.drop("thread:#c:1")
    assert memory.get("thread:#c:1") is None and memory.get("thread:#c:1:creating") == "a"


@pytest.mark.parametrize("options, key", [
    ({"channel": "#oncall", "thread": "issue", "broadcast": ()}, "thread:#oncall:777"),
    ({"channel": "#oncall", "thread": "none", "broadcast": ()}, None),
    ({"webhook_url": "https://hooks.slack.test/T/B/x", "thread": "none", "broadcast": ()}, None),
])
def test_slack_threads_only_web_api_targets_with_thread_issue(options: dict[str, object], key: str | None) -> None:
    """Slack names the card a notification goes through for `thread: issue` Web API targets, none otherwise."""
    target = Target("oncall", "slack", options)
    channel = build_channel(target, Settings(slack_bot_token=SLACK_TOKEN))
    assert channel.thread_key(Outgoing(about("777"), target, RULE)) == key


def test_slack_decides_card_reply_and_update_itself(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """Handed an issue's notifications, Slack posts its card, then replies in its thread and edits the card."""
    target = threaded_target()
    channel = build_channel(target, Settings(slack_bot_token=SLACK_TOKEN, slack_api_url=fake_slack.url))
    memory = StoreMemory(SqliteStore(str(tmp_path / "r.sqlite3")))
    assert isinstance(channel, SlackChannel)
    card = channel.deliver(Outgoing(about("5150"), target, RULE), RENDERER, memory)
    reply = channel.deliver(Outgoing(about("5150", action="resolved"), target, RULE), RENDERER, memory)
    assert (card["kind"], reply["kind"]) == ("card", "reply")
    assert reply["thread_ts"] == card["ts"] == reply["updated_ts"] and memory.get("thread:#oncall:5150")
    assert [m["ts"] for m in fake_slack.top_level()] == [card["ts"]] and len(fake_slack.calls("chat.update")) == 1
