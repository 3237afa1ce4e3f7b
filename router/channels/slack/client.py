"""Slack's Web API: `chat.postMessage` / `chat.update` with a bot token, and how Slack's answers map to errors.

Threads (DESIGN 1.6) build on `post(message, thread_ts=…, reply_broadcast=…)` and `update(channel, ts, message)`:
the channel's `deliver` sends a notification through its issue's card (cards.py) when the target threads.
slack-sdk's own retry handlers are off: the delivery queue retries, honouring `retry_after`.
"""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from router.channels.base import DeliveryError, Outgoing, Receipt, Renderer, ThreadMemory
from router.channels.one_message import OneMessage
from router.channels.slack.cards import card_key, threaded
from router.channels.slack.digest import DigestThreads
from router.masking import mask
from router.render import Message

TIMEOUT = 10
# Slack error codes where trying again later may work; every other code is permanent.
RETRYABLE_CODES = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
                             "request_timeout", "team_added_to_org"})
NETWORK_ERRORS = (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError)


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds from a Retry-After header (any case, list or str), if present and numeric."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            value = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def api_error(status: int, code: str, headers: Mapping[str, Any] | None, secrets: list[str]) -> DeliveryError:
    """Map a Slack answer (HTTP status, error code) to a retryable or permanent DeliveryError."""
    code = mask(code or f"HTTP {status}", secrets)
    if status == 429 or code in ("ratelimited", "rate_limited"):
        return DeliveryError(f"rate limited by Slack ({code})", retryable=True, retry_after=retry_after(headers),
                             code=code)
    if status >= 500:
        return DeliveryError(f"Slack HTTP {status}: {code}", retryable=True, retry_after=retry_after(headers))
    return DeliveryError(code, retryable=code in RETRYABLE_CODES, code=code)


def payload(message: Message) -> dict[str, Any]:
    """The message fields Slack takes: fallback `text` and `blocks` (links are not unfurled)."""
    body: dict[str, Any] = {"text": message.text or message.title or " ", "unfurl_links": False,
                            "unfurl_media": False}
    if message.blocks:
        body["blocks"] = [dict(b) for b in message.blocks]
    return body


class SlackChannel(OneMessage):
    """A `slack` target with `channel`: Web API calls with SLACK_BOT_TOKEN against SLACK_API_URL; with `thread:
    issue` (the default) one live card per issue or incident, kept `thread_ttl` seconds after its last edit."""

    type = "slack"

    def __init__(self, channel: str, token: str | None, api_url: str = "https://slack.com/api/",
                 thread_ttl: float = 30 * 86400.0) -> None:
        self.channel = channel
        self.token = token
        self.thread_ttl = thread_ttl
        self.client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                                timeout=TIMEOUT, retry_handlers=[])
        self._secrets = [token] if token else []

    def send(self, message: Message) -> Receipt:
        """Post `message` at the top level of the channel."""
        return self.post(message)

    def thread_key(self, outgoing: Outgoing) -> str | None:
        """The memory key of the card this notification goes through; None when it goes top-level."""
        return card_key(outgoing.target, outgoing.event) if threaded(outgoing.target, outgoing.event) else None

    def deliver(self, outgoing: Outgoing, renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """Through its subject's card (post the card, reply in its thread, update it), else one top-level message."""
        if self.thread_key(outgoing) is None:
            return super().deliver(outgoing, renderer, memory)
        return DigestThreads(memory, renderer, self.thread_ttl).deliver(
            self, outgoing.event, outgoing.target, outgoing.rule, outgoing.suppressed or 0)

    def deliver_batch(self, batch: Sequence[Outgoing], renderer: Renderer, memory: ThreadMemory) -> Receipt:
        """A batch about one card as one reply in its thread (then one card edit); else one top-level digest."""
        if self.thread_key(batch[0]) is None:
            return super().deliver_batch(batch, renderer, memory)
        return DigestThreads(memory, renderer, self.thread_ttl).deliver_digest(
            self, [o.event for o in batch], batch[0].target, batch[0].rule)

    def post(self, message: Message, thread_ts: str | None = None, reply_broadcast: bool = False) -> Receipt:
        """chat.postMessage; with `thread_ts` a reply in that thread (`reply_broadcast`: shown in the channel too)."""
        args = payload(message)
        if thread_ts:
            args.update(thread_ts=thread_ts, reply_broadcast=reply_broadcast)
        return self._call("chat_postMessage", channel=self.channel, **args)

    def update(self, channel: str, ts: str, message: Message) -> Receipt:
        """chat.update: replace the text and blocks of the message at (`channel` id, `ts`)."""
        args = payload(message)
        args.pop("unfurl_links"), args.pop("unfurl_media")
        return self._call("chat_update", channel=channel, ts=ts, **args)

    def problem(self) -> str | None:
        """Why this channel cannot deliver, found without sending anything; None when it may."""
        return None if self.token else "SLACK_BOT_TOKEN is not set"

    def _call(self, method: str, **kwargs: Any) -> Receipt:
        if not self.token:
            raise DeliveryError("SLACK_BOT_TOKEN is not set", retryable=False)
        try:
            resp = getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            r = exc.response
            code = r.get("error", "") if isinstance(r.data, dict) else ""
            raise api_error(r.status_code, str(code), r.headers, self._secrets) from None
        except (SlackClientError, *NETWORK_ERRORS) as exc:
            raise DeliveryError(f"cannot reach Slack: {mask(str(exc), self._secrets)}", retryable=True) from None
        return {"channel": resp.get("channel"), "ts": resp.get("ts")}
