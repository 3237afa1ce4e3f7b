"""The printing fake Slack the README's quick start points the router at."""

from __future__ import annotations

import io

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack_cli import PrintingSlack


def test_prints_each_message_it_answers() -> None:
    """A chat.postMessage to the printing fake is answered like Slack and printed with its channel and text."""
    out = io.StringIO()
    with PrintingSlack(0, "xoxb-local", out) as slack:
        client = WebClient(token="xoxb-local", base_url=slack.url)
        answer = client.chat_postMessage(channel="#oncall", text="New issue in api", blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}])
    assert answer["ok"] is True
    printed = out.getvalue()
    assert "chat.postMessage #oncall: New issue in api  → ok" in printed
    assert '"text": "hello"' in printed


def test_a_wrong_token_is_printed_as_slack_refuses_it() -> None:
    """A router configured with another token sees invalid_auth, and the fake prints the refusal."""
    out = io.StringIO()
    with PrintingSlack(0, "xoxb-local", out) as slack, pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-other", base_url=slack.url).chat_postMessage(channel="#a", text="x")
    assert "→ error invalid_auth" in out.getvalue()
