"""Every real-shape payload (tests/realshape) and bundled sample reads right in Slack, email and text."""

from __future__ import annotations

import json
import re

import pytest

from router import sentry
from router.render import Message, Renderer
from router.rules.model import Target
from tests.conftest import ALL_FIXTURES, fixture_payload
from tests.realshape import NAMES, load

TARGETS = [Target("oncall", "slack", {"channel": "#oncall"}), Target("mail", "email", {"to": ["a@b.c"]}),
           Target("log", "console", {})]
_URL = re.compile(r"https?://\S+|<https?://[^>]*>")
# words that betray a missing value: None/null printed, "?" or "(?)" standing in for one, doubled spaces
_PLACEHOLDER = re.compile(r"\bNone\b|\bnull\b|\(\?\)|(?:^|\s)\?(?:$|\s|,|\))|[^\s] {2,}[^\s]", re.M)


def _event(name: str) -> sentry.SentryEvent:
    if name in NAMES:
        resource, payload = load(name)
        return sentry.build(resource, payload)
    return sentry.build(name.split(".")[0], fixture_payload(name))


def _texts(message: Message) -> list[str]:
    """Every piece of text a reader sees: title, body, HTML, and each text in Slack blocks."""
    out = [message.title, message.text, message.html or ""]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                elif key not in ("url", "action_id", "value"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(json.loads(json.dumps(message.blocks or [])))
    return out


@pytest.mark.parametrize("sentry_url", ["https://acme.sentry.io", None])
@pytest.mark.parametrize("name", NAMES + ALL_FIXTURES)
def test_no_message_shows_a_missing_value(name: str, sentry_url: str | None) -> None:
    """No form of any payload shows None, null, a ? or (?) placeholder, or a double space."""
    renderer = Renderer(None, sentry_url=sentry_url)
    for target in TARGETS:
        message = renderer.render(_event(name), target)
        assert message.template != "(built-in)", (name, target.type)
        for text in _texts(message):
            text = _URL.sub("", text)
            found = _PLACEHOLDER.search(text)
            assert found is None, (name, target.type, found.group(0) if found else "", text[:400])
