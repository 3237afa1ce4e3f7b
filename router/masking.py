"""Keep secrets out of logs, errors, the ledger and command output."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "****"
# user:password@ in any URL-looking text, and Slack tokens / incoming-webhook paths.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+")
_SLACK_HOOK = re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/]+")


# query parameters that carry credentials by name (token=, apikey=, password=, auth=, sig=…)
_SECRET_PARAM = re.compile(r"token|key|secret|pass|pwd|auth|sig|cred|bearer|session", re.IGNORECASE)
# schemes whose address is host, port and path, not credentials (Apprise's json/form/xml post to any URL)
_PLAIN_SCHEMES = frozenset({"http", "https", "mailto", "mailtos", "smtp", "smtps", "starttls", "redis", "rediss",
                            "json", "jsons", "form", "forms", "xml", "xmls"})


def _query(query: str) -> list[tuple[str, str]]:
    """(key, value) pairs as written, and decoded where that differs (either may reach a log line)."""
    pairs = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        pairs.append((key, value))
        if "%" in item:
            pairs.append((unquote(key), unquote(value)))
    return [(k, v) for k, v in pairs if v]


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL: its password; query values named like credentials and Apprise's HTTP headers
    (`?+X-Api-Key=…`); for token-in-URL services (Apprise's discord://ID/TOKEN, pover://USER@TOKEN,
    tgram://BOT:TOKEN/CHAT) every long part of the address, path and query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    query = _query(parts.query)
    found.extend(v for k, v in query if k.startswith(("+", "%2B", "%2b")) or _SECRET_PARAM.search(k))
    if parts.scheme.lower() not in _PLAIN_SCHEMES:
        pieces = [*re.split("[@:]", parts.netloc), *parts.path.split("/"), *(v for _, v in query)]
        found.extend(p for p in pieces if len(p) >= 8)
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
