"""Slack channel against FakeSlack over HTTP: Block Kit posts, threads, error mapping, masking."""

from __future__ import annotations

import socket

import pytest

from router.channels import DeliveryError, build_channel
from router.channels.slack.client import SlackChannel
from router.channels.slack.webhook import SlackWebhookChannel
from router.render import Renderer
from router.rules.model import Target
from router.settings import Settings
from tests.fakes.fixtures import SLACK_TOKEN, fake_slack  # noqa: F401  (fixture)
from tests.fakes.slack import FakeSlack
from tests.support.render import RESOURCES, first_sample, hostile_issue, sample

TARGET = Target("oncall", "slack", {"channel": "#oncall"})
RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")
BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text"}


def channel_for(slack: FakeSlack, token: str | None = SLACK_TOKEN) -> SlackChannel:
    settings = Settings(slack_bot_token=token, slack_api_url=slack.url)
    ch = build_channel(TARGET, settings)
    assert isinstance(ch, SlackChannel)
    return ch


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_block_kit(blocks: list) -> None:
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50
    for block in blocks:
        assert block["type"] in BLOCK_TYPES
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and 0 < len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            for text in [block.get("text")] + block.get("fields", []):
                if text:
                    assert text["type"] in ("mrkdwn", "plain_text") and 0 < len(text["text"]) <= 3000
        if block["type"] == "actions":
            for el in block["elements"]:
                assert el["type"] == "button" and el["url"].startswith("http") and el["text"]["text"]
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10


@pytest.mark.parametrize("resource", RESOURCES)
def test_post_message_for_every_resource(fake_slack: FakeSlack, resource: str) -> None:
    """chat.postMessage reaches Slack with the channel, valid Block Kit and a fallback text; receipt has channel/ts."""
    msg = RENDERER.render(sample(first_sample(resource)), TARGET)
    receipt = channel_for(fake_slack).send(msg)
    (call,) = fake_slack.calls("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert call.params["channel"] == "#oncall" and call.params["text"] == msg.text and msg.text
    assert call.params["unfurl_links"] is False
    assert_block_kit(call.params["blocks"])
    assert receipt == {"channel": FakeSlack.channel_id("#oncall"), "ts": receipt["ts"]} and "." in receipt["ts"]


def test_hostile_text_arrives_escaped(fake_slack: FakeSlack) -> None:
    """What Slack receives for a hostile title cannot ping (<!channel> arrives as &lt;!channel&gt;)."""
    channel_for(fake_slack).send(RENDERER.render(hostile_issue(), TARGET))
    params = fake_slack.calls("chat.postMessage")[0].params
    assert "<!channel>" not in str(params) and "&lt;!channel&gt;" in params["text"]


def test_threads_and_updates(fake_slack: FakeSlack) -> None:
    """post(thread_ts=…, reply_broadcast=…) replies in a thread; update() edits; unknown ts is permanent."""
    ch = channel_for(fake_slack)
    card = ch.send(RENDERER.render(sample("issue.created"), TARGET))
    reply = ch.post(RENDERER.render(sample("comment.created"), TARGET, notification={"kind": "reply"}),
                    thread_ts=card["ts"], reply_broadcast=True)
    assert reply["ts"] > card["ts"]
    params = fake_slack.calls("chat.postMessage")[1].params
    assert params["thread_ts"] == card["ts"] and params["reply_broadcast"] is True
    updated = ch.update(card["channel"], card["ts"], RENDERER.render(sample("issue.resolved"), TARGET))
    assert updated["ts"] == card["ts"]
    assert fake_slack.messages()[(card["channel"], card["ts"])]["text"].startswith("✅")
    with pytest.raises(DeliveryError) as err:
        ch.update(card["channel"], "1.000001", RENDERER.render(sample("issue.resolved"), TARGET))
    assert (err.value.reason, err.value.retryable) == ("message_not_found", False)
    with pytest.raises(DeliveryError) as err:
        ch.post(RENDERER.render(sample("comment.created"), TARGET), thread_ts="1.000001")
    assert err.value.reason == "thread_not_found"


def test_rate_limit_is_retryable_with_retry_after(fake_slack: FakeSlack) -> None:
    """A 429 becomes a retryable error carrying Slack's Retry-After; slack-sdk does not retry on its own."""
    fake_slack.rate_limit_next(1, retry_after=7)
    with pytest.raises(DeliveryError) as err:
        channel_for(fake_slack).send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable and err.value.retry_after == 7 and "rate" in err.value.reason
    assert len(fake_slack.calls()) == 1


def test_server_error_is_retryable(fake_slack: FakeSlack) -> None:
    """A 500 from Slack becomes a retryable error (and no built-in retry happened)."""
    fake_slack.fail_next(1, status=500)
    with pytest.raises(DeliveryError) as err:
        channel_for(fake_slack).send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable and "500" in err.value.reason and len(fake_slack.calls()) == 1


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"])
def test_permanent_slack_errors(fake_slack: FakeSlack, code: str) -> None:
    """Slack errors that retrying cannot fix are permanent, with Slack's code as the reason."""
    fake_slack.error_next(1, code)
    with pytest.raises(DeliveryError) as err:
        channel_for(fake_slack).send(RENDERER.render(sample("issue.created"), TARGET))
    assert (err.value.reason, err.value.retryable) == (code, False)


def test_wrong_token_is_invalid_auth_and_never_shown(fake_slack: FakeSlack) -> None:
    """A token Slack rejects is a permanent invalid_auth; the token appears in no error."""
    with pytest.raises(DeliveryError) as err:
        channel_for(fake_slack, token="xoxb-wrong-123456").send(RENDERER.render(sample("issue.created"), TARGET))
    assert (err.value.reason, err.value.retryable) == ("invalid_auth", False)
    assert "xoxb-wrong" not in repr(err.value)


def test_missing_token_is_permanent(fake_slack: FakeSlack) -> None:
    """Without SLACK_BOT_TOKEN a channel target fails permanently without calling Slack."""
    with pytest.raises(DeliveryError) as err:
        channel_for(fake_slack, token=None).send(RENDERER.render(sample("issue.created"), TARGET))
    assert (err.value.reason, err.value.retryable) == ("SLACK_BOT_TOKEN is not set", False)
    assert fake_slack.calls() == []


def test_unreachable_slack_is_retryable() -> None:
    """Connection refused is retryable and the token is masked."""
    ch = SlackChannel("#oncall", "xoxb-secret-999999", f"http://127.0.0.1:{closed_port()}/api")
    with pytest.raises(DeliveryError) as err:
        ch.send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable and "xoxb-secret" not in err.value.reason


def test_webhook_posts_blocks(fake_slack: FakeSlack) -> None:
    """A webhook_url target POSTs text and blocks to the webhook; threads are ignored."""
    ch = build_channel(Target("hook", "slack", {"webhook_url": fake_slack.webhook_url}), Settings())
    assert isinstance(ch, SlackWebhookChannel)
    assert ch.send(RENDERER.render(sample("metric_alert.critical"), TARGET)) == {"status": 200, "body": "ok"}
    (call,) = fake_slack.calls("webhook")
    assert_block_kit(call.params["blocks"])
    assert call.params["text"].startswith("🚨")


@pytest.mark.parametrize(("script", "retryable", "reason"), [
    (("rate_limit_next", 3), True, "rate limited"),
    (("fail_next", 503), True, "503"),
    (("error_next", "no_service"), False, "no_service"),
    (("error_next", "channel_not_found"), False, "channel_not_found"),
])
def test_webhook_errors(fake_slack: FakeSlack, script: tuple, retryable: bool, reason: str) -> None:
    """Webhook 429/5xx are retryable (Retry-After kept), 4xx permanent with Slack's body as the reason."""
    getattr(fake_slack, script[0])(1, script[1])
    ch = SlackWebhookChannel(fake_slack.webhook_url)
    with pytest.raises(DeliveryError) as err:
        ch.send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable is retryable and reason in err.value.reason
    assert "XXXXXXXXXXXX" not in err.value.reason
    if script[0] == "rate_limit_next":
        assert err.value.retry_after == 3


def test_unreachable_webhook_is_retryable_and_masked() -> None:
    """A webhook that cannot be reached is retryable; its secret path is never in the reason."""
    url = f"http://127.0.0.1:{closed_port()}/webhook/T0/B0/SECRETSECRETSECRET"
    with pytest.raises(DeliveryError) as err:
        SlackWebhookChannel(url).send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable and "SECRETSECRET" not in err.value.reason


def test_rate_enforcing_fake_refuses_beyond_the_burst_per_channel() -> None:
    """FakeSlack(rate=…) lets a burst of 5 posts per channel through, then answers 429 Retry-After 1, posting
    nothing."""
    from router.render import Message
    from tests.fakes.slack import SLACK_RATE

    with FakeSlack(token=SLACK_TOKEN, rate=SLACK_RATE) as slack:
        oncall, other = (SlackChannel(c, SLACK_TOKEN, slack.url) for c in ("#oncall", "#other"))
        message = Message(channel="slack", title="t", text="hello")
        for _ in range(5):
            oncall.post(message)
        with pytest.raises(DeliveryError) as refused:
            oncall.post(message)
        assert refused.value.retryable and refused.value.retry_after == 1.0 and refused.value.code == "ratelimited"
        other.post(message)   # another channel has its own budget
        assert len(slack.rate_limited()) == 1 and len(slack.messages()) == 6


def test_slack_target_options_are_offered_to_the_rules_loader() -> None:
    """The rules loader reads `type: slack` options with the reader router.channels.slack offers (entry point)."""
    from router.channels.slack.options import SLACK
    from router.rules.targets import target_type

    assert target_type("slack") is SLACK and SLACK.allowed[:2] == ("type", "channel")

