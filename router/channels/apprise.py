"""Email (Apprise `mailto://` / `mailtos://` from SMTP_URL) and any Apprise URL.

A fresh `Apprise()` per send: a reused instance throttles each service to one send per few seconds.
Success or failure comes from Apprise's per-service results (`AppriseResult`, one `NotifyResult` each).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import apprise

from router.channels.base import DeliveryError, Message, Receipt
from router.masking import mask, url_secrets

NOTIFY_TIMEOUT = 60
_MAILTO = {"smtp": ("mailto", "insecure"), "smtps": ("mailtos", "ssl"), "starttls": ("mailtos", "starttls")}


def as_list(value: Any) -> list[str]:
    """One string or a list of strings, as a list (empty entries dropped)."""
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(v).strip() for v in items if str(v).strip()]


def mailto_url(smtp_url: str, email_from: str, to: Sequence[str]) -> str:
    """The Apprise email URL for SMTP_URL (`smtp://`, `smtps://`, `starttls://`), EMAIL_FROM and recipients."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in _MAILTO or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://[user:pass@]host[:port] (or smtps://, starttls://)")
    scheme, mode = _MAILTO[parts.scheme]
    auth = ""
    if parts.username:
        # urlsplit leaves user and password percent-encoded; normalise to exactly one encoding
        auth = quote(unquote(parts.username), safe="")
        auth += f":{quote(unquote(parts.password), safe='')}" if parts.password else ""
        auth += "@"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{auth}{host}" + (f":{parts.port}" if parts.port else "")
    query = urlencode({"smtp": parts.hostname, "mode": mode, "from": email_from, "to": ",".join(to)})
    return f"{scheme}://{netloc}/?{query}"


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


def notify(urls: Sequence[str], message: Message, secrets: list[str], html: bool = False) -> Receipt:
    """Send through a fresh Apprise instance; raise a retryable DeliveryError unless every service succeeded."""
    ap = apprise.Apprise()
    for url in urls:
        if not ap.add(url):
            raise DeliveryError(f"not a usable Apprise URL: {mask(url, secrets)}", retryable=False)
    fmt = apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.TEXT
    body = (message.html if html else message.text) or message.title or " "
    result = ap.notify(body=body, title=message.title, body_format=fmt, timeout=NOTIFY_TIMEOUT,
                       log_level=logging.WARNING)
    if not result:
        raise DeliveryError(_failure_reason(result, secrets), retryable=True)
    return {"services": [s.name for s in result], "sent": len(result)}


class EmailChannel:
    """An `email` target: SMTP via Apprise, HTML with a text alternative when the template gives HTML."""

    type = "email"

    def __init__(self, to: Sequence[str], smtp_url: str | None, email_from: str, subject_prefix: str = "") -> None:
        self.to = list(to)
        self.subject_prefix = subject_prefix.strip()
        self.smtp_url = smtp_url
        self.email_from = email_from
        self._secrets = url_secrets(smtp_url) if smtp_url else []

    def problem(self) -> str | None:
        """Why this channel cannot deliver, found without sending anything; None when it may."""
        if not self.smtp_url:
            return "SMTP_URL is not set"
        try:
            mailto_url(self.smtp_url, self.email_from, self.to or ["x@example.com"])
        except ValueError as exc:
            return str(exc)
        return None

    def send(self, message: Message) -> Receipt:
        """Email `message` to every recipient."""
        if not self.smtp_url:
            raise DeliveryError("SMTP_URL is not set", retryable=False)
        if not self.to:
            raise DeliveryError("email target has no `to` address", retryable=False)
        try:
            url = mailto_url(self.smtp_url, self.email_from, self.to)
        except ValueError as exc:
            raise DeliveryError(str(exc), retryable=False) from None
        if self.subject_prefix:
            message = dataclasses.replace(message, title=f"{self.subject_prefix} {message.title}")
        receipt = notify([url], message, self._secrets + [url], html=bool(message.html))
        return {**receipt, "to": self.to}


class AppriseChannel:
    """An `apprise` target: any Apprise URL, or a list of them (all must succeed)."""

    type = "apprise"

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self._secrets = [s for u in self.urls for s in url_secrets(u)]

    def send(self, message: Message) -> Receipt:
        """Notify every URL with the message's title and text."""
        if not self.urls:
            raise DeliveryError("apprise target has no url", retryable=False)
        return notify(self.urls, message, self._secrets)
