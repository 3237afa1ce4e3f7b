"""Any Apprise URL (`apprise` targets; email is sent by router/channels/email.py).

A fresh `Apprise()` per send: a reused instance throttles each service to one send per few seconds.
Success or failure comes from Apprise's per-service results (`AppriseResult`, one `NotifyResult` each).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import apprise

from router.channels.base import DeliveryError, Receipt
from router.channels.neutral import MARKDOWN_SCHEMES, for_service, scheme
from router.channels.one_message import OneMessage
from router.masking import mask, register, url_secrets
from router.render import Message

NOTIFY_TIMEOUT = 60


def as_list(value: Any) -> list[str]:
    """One string or a list of strings, as a list (empty entries dropped)."""
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(v).strip() for v in items if str(v).strip()]


def _failure_reason(result: Any, secrets: Iterable[str]) -> str:
    """Why Apprise failed, from its per-service results and captured log lines, secrets masked."""
    lines = []
    for service in result:
        if bool(service):
            continue
        logs = [entry.message for entry in service.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        lines.append(f"{service.name} ({service.url.split('?')[0]}): {'; '.join(logs) or service.status.name.lower()}")
    if not lines:
        lines = [entry.message for entry in result.logs()] or [f"apprise: {result.status.name.lower()}"]
    return mask(" | ".join(lines), secrets)[:1000]


def notify(urls: Sequence[str], message: Message, secrets: list[str]) -> Receipt:
    """Send through a fresh Apprise instance; raise a retryable DeliveryError unless every service succeeded."""
    ap = apprise.Apprise()
    for url in urls:
        if not ap.add(url):
            raise DeliveryError(f"not a usable Apprise URL: {mask(url, secrets)}", retryable=False)
    body = message.text or message.title or " "
    result = ap.notify(body=body, title=message.title, body_format=apprise.NotifyFormat.TEXT, timeout=NOTIFY_TIMEOUT,
                       log_level=logging.WARNING)
    if not result:
        raise DeliveryError(_failure_reason(result, secrets), retryable=True)
    return {"services": [s.name for s in result], "sent": len(result)}


class AppriseChannel(OneMessage):
    """An `apprise` target: any Apprise URL, or a list of them (all must succeed)."""

    type = "apprise"

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self._secrets = [s for u in self.urls for s in url_secrets(u)]
        register(self._secrets)   # whatever Apprise logs about them is masked

    def send(self, message: Message) -> Receipt:
        """Notify every URL with the message's title and text, made inert for each service (neutral.py):
        mentions never ping; pings come only from the URL's own options (Discord's `?ping=`)."""
        if not self.urls:
            raise DeliveryError("apprise target has no url", retryable=False)
        groups: dict[bool, list[str]] = {}   # markdown services get their text escaped; one send per kind
        for url in self.urls:
            groups.setdefault(scheme(url) in MARKDOWN_SCHEMES, []).append(url)
        receipts = [notify(urls, _inert(message, urls[0]), self._secrets) for urls in groups.values()]
        return {"services": [s for r in receipts for s in r["services"]], "sent": sum(r["sent"] for r in receipts)}


def _inert(message: Message, url: str) -> Message:
    """`message` with its title and text made inert for the service of `url`."""
    return dataclasses.replace(message, title=for_service(message.title, url), text=for_service(message.text, url))
