"""Keep secrets out of logs, errors, the ledger and command output."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

MASK = "****"
# user:password@ in any URL-looking text, and Slack tokens / incoming-webhook paths.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+")
_SLACK_HOOK = re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/]+")


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL: its password and, for token-in-path services, its path segments."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.scheme not in ("http", "https", "mailto", "mailtos", "smtp", "smtps", "starttls", "redis", "rediss", "json", "jsons", "form", "forms", "xml", "xmls"):
        # Apprise services (discord://ID/TOKEN, slack://A/B/C, tgram://TOKEN/...) carry credentials in host and path.
        found.extend(p for p in [parts.hostname or "", *parts.path.split("/")] if len(p) >= 8)
    elif "hooks.slack.com" in (parts.hostname or ""):
        found.extend(p for p in parts.path.split("/") if len(p) >= 8 and p != "services")
    return found


def mask_url(url: str) -> str:
    """A URL safe to show: password and token-like parts replaced by ****."""
    return mask(url, url_secrets(url))


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret, URL password and Slack token in `text` with ****."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    # each pattern needs a literal its match contains: most text (a log line per webhook) skips all three
    if "://" in text:
        text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    if "xox" in text:
        text = _SLACK_TOKEN.sub(MASK, text)
    return _SLACK_HOOK.sub(rf"\1{MASK}", text) if "hooks.slack.com/services/" in text else text


def without_secrets(value: Any) -> tuple[Any, bool]:
    """A plain copy of nested options with every URL's credentials masked, and whether any were."""
    if isinstance(value, str):
        masked = mask_url(value) if "://" in value else value
        return masked, masked != value
    if isinstance(value, Mapping):
        pairs = {str(k): without_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(m for _, m in pairs.values())
    if isinstance(value, (list, tuple)):
        items = [without_secrets(v) for v in value]
        return [v for v, _ in items], any(m for _, m in items)
    return value, False


def one_line(text: str) -> str:
    """`text` safe for a log line: control characters (newlines, terminal escapes) shown escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
