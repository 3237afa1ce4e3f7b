"""Slack's incoming webhooks: one POST per message (no threads, no edits)."""

from __future__ import annotations

from slack_sdk.webhook import WebhookClient

from router.channels.base import DeliveryError, Receipt
from router.channels.one_message import OneMessage
from router.channels.slack import client as web_api
from router.channels.slack.client import NETWORK_ERRORS, api_error, payload
from router.masking import mask, register, url_secrets
from router.render import Message


class SlackWebhookChannel(OneMessage):
    """A `slack` target with `webhook_url`: an incoming webhook (no threads, no edits)."""

    type = "slack"

    def __init__(self, webhook_url: str) -> None:
        self.client = WebhookClient(webhook_url, timeout=web_api.TIMEOUT, retry_handlers=[])
        self._secrets = [webhook_url, *url_secrets(webhook_url)]
        register(self._secrets)   # urllib3 and slack_sdk log the path

    def send(self, message: Message) -> Receipt:
        """POST the message to the webhook."""
        return self.post(message)

    def post(self, message: Message, thread_ts: str | None = None, reply_broadcast: bool = False) -> Receipt:
        """POST the message; incoming webhooks cannot thread, so `thread_ts` is ignored."""
        try:
            resp = self.client.send_dict(payload(message))
        except NETWORK_ERRORS as exc:
            raise DeliveryError(f"cannot reach Slack webhook: {mask(str(exc), self._secrets)}",
                                retryable=True) from None
        if resp.status_code == 200:
            return {"status": 200, "body": resp.body}
        raise api_error(resp.status_code, (resp.body or "").strip()[:200], resp.headers, self._secrets)

    def update(self, channel: str, ts: str, message: Message) -> Receipt:
        """Incoming webhooks cannot edit messages."""
        raise DeliveryError("incoming webhooks cannot edit messages", retryable=False)
