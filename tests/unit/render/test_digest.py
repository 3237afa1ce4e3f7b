"""Digests (several notifications in one message) in Slack, email and text: every item, its link and count."""

from __future__ import annotations

import json

import pytest

from router.render import Renderer
from router.render.digest import digest_items, digest_note, digest_rule
from router.rules.model import Rule, Target
from tests.support.render import HOSTILE_TITLE, hostile_issue, sample
from tests.support.threads import about

SLACK = Target("oncall", "slack", {"channel": "#oncall"})
EMAIL = Target("mail", "email", {"to": ["a@example.com"]})
CONSOLE = Target("log", "console", {})
RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")
RULE = digest_rule(Rule(name="storm", match=None))


def shown(message: object) -> str:
    """Everything a message carries, blocks and HTML included."""
    return json.dumps([getattr(message, k) for k in ("title", "text", "blocks", "html")], ensure_ascii=False)


def test_items_merge_repeats_and_keep_order() -> None:
    """Notifications with one title and link are one item with their count, in order of first appearance."""
    events = [about("7001", "error", n=1), about("7002"), about("7001", "error", n=1), about("7001", "error", n=2)]
    items = digest_items(events, "https://acme.sentry.io")
    assert [(i["title"], i["count"]) for i in items] == [("Thread test 7001 error 1", 2), ("Thread test 7002", 1),
                                                         ("Thread test 7001 error 2", 1)]
    assert all(i["link"].startswith("https://") for i in items)


@pytest.mark.parametrize("target", [SLACK, EMAIL, CONSOLE], ids=["slack", "email", "text"])
def test_a_digest_lists_every_item_with_link_and_count(target: Target) -> None:
    """Each form's digest names how many notifications it carries and shows every item's title, link and count."""
    events = [about("7001"), about("7001", "error", n=1), about("7001", "error", n=1), sample("issue.resolved")]
    message = RENDERER.render(events[0], target, RULE, notification=digest_note(events, "card", RENDERER.sentry_url))
    text = shown(message)
    assert message.template.startswith("digest.") and "4" in message.title
    for item in digest_items(events, RENDERER.sentry_url):
        assert item["title"] in text and item["link"] in text
    assert "×2" in text


def test_a_card_reply_digest_counts_events() -> None:
    """In a card's thread the digest is a compact reply: "+N events", then the items."""
    events = [about("7001", "error", n=i) for i in range(3)]
    message = RENDERER.render(events[-1], SLACK, RULE, notification=digest_note(events, "reply", None))
    assert message.blocks and "*+3 events*" in shown(message) and message.blocks[0]["type"] == "section"


def test_payload_text_in_a_digest_is_escaped_for_slack() -> None:
    """A hostile title cannot mention the channel or inject a link in a Slack digest."""
    events = [hostile_issue(), hostile_issue()]
    message = RENDERER.render(events[0], SLACK, RULE, notification=digest_note(events, "card", None))
    text = shown(message)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and HOSTILE_TITLE not in text
