"""Keep secrets out of logs, errors, the ledger and command output."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "****"
# user:password@ in any URL-looking text, and Slack tokens / incoming-webhook paths.
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+")
_SLACK_HOOK = re.compile(r"(hooks\.slack\.com/services/)[A-Za-z0-9/]+")


# query parameter names (split into words: `X-Api-Key`, `access_token`, `apiKey`) that carry credentials
_SECRET_WORDS = frozenset({"token", "key", "apikey", "apitoken", "secret", "password", "passwd", "pass", "pwd",
                           "auth", "authorization", "sig", "signature", "credential", "credentials", "bearer",
                           "session", "accesskey", "privatekey"})
# HTTP headers (Apprise's `?+Name=value`) that are never credentials
_PLAIN_HEADERS = frozenset({"accept", "accept-language", "accept-encoding", "content-type", "content-encoding",
                            "user-agent", "cache-control"})
# schemes whose address is host, port and path, not credentials (Apprise's json/form/xml post to any URL)
_PLAIN_SCHEMES = frozenset({"http", "https", "mailto", "mailtos", "smtp", "smtps", "starttls", "redis", "rediss",
                            "json", "jsons", "form", "forms", "xml", "xmls"})
_TOKEN_LIKE = re.compile(r"(?=.*[A-Za-z])(?=.*[0-9]).{16,}")  # a long path segment of letters and digits
SHORTEST = 8  # a value shorter than this is only a secret by position (a password), not by its name or shape


def _long(pieces: Iterable[str]) -> list[str]:
    """The pieces of SHORTEST or more characters, each as written and, where it differs, percent-decoded
    (Apprise decodes them; either form may reach a log line)."""
    return [form for p in pieces if len(p) >= SHORTEST for form in {p, unquote(p)}]


def _named_secret(key: str) -> bool:
    key = unquote(key).lower()
    if key.startswith("+"):  # an HTTP header Apprise sends
        return key[1:] not in _PLAIN_HEADERS
    words = re.split(r"[^a-z0-9]+", key.lstrip(":-"))
    return any(w in _SECRET_WORDS for w in words) or "".join(words) in _SECRET_WORDS


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL: its password; query values named like credentials and Apprise's HTTP headers
    (`?+X-Api-Key=…`); long token-like path segments (`/api/webhooks/ID/TOKEN`); and for token-in-address
    services (Apprise's discord://ID/TOKEN, pover://USER@TOKEN, tgram://BOT:TOKEN/CHAT) every long part of the
    address and path."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = list({parts.password, unquote(parts.password)}) if parts.password else []
    for item in re.split("[&;]", parts.query):  # Apprise splits on both
        key, _, value = item.partition("=")
        if _named_secret(key):
            found += _long([value])
    segments = parts.path.split("/")
    if parts.scheme.lower() not in _PLAIN_SCHEMES:
        found += _long([*re.split("[@:]", parts.netloc), *segments])
    else:
        for token in (p for p in segments if _TOKEN_LIKE.fullmatch(p)):
            found += _long({token, *token.split(":")})  # and its halves: bot<ID>:<TOKEN>
        if "hooks.slack.com" in (parts.hostname or ""):
            found += _long(p for p in segments if p != "services")
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


class _Registry:
    """Every credential this process has seen (settings, rules targets, channels): the log formatter masks them
    all, at every level and from every logger (Apprise's DEBUG line prints `?+X-Api-Key=…`, urllib3 a Slack
    webhook's path). Kept longest first; a line is searched for each (a substring test per secret is cheaper
    than one regex alternation over them all, and most lines hold none)."""

    def __init__(self) -> None:
        self.values: frozenset[str] = frozenset()
        self.ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and len(s) >= 4} - self.values
        if not new:
            return
        with self._lock:
            values = self.values | new
            self.ordered = tuple(sorted(values, key=len, reverse=True))
            self.values = frozenset(values)


_REGISTRY = _Registry()


def register(secrets: Iterable[str]) -> None:
    """Add credentials for every log line of this process to mask (see mask_registered)."""
    _REGISTRY.add(secrets)


def register_options(options: Any) -> None:
    """Register the credentials inside a target's options: every URL's secret parts (url_secrets)."""
    register(s for value in strings_in(options) if "://" in value for s in url_secrets(value))


def strings_in(value: Any) -> list[str]:
    """Every string inside nested mappings and lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []


def mask_registered(text: str) -> str:
    """`text` with every registered credential, URL password and Slack token masked."""
    for secret in _REGISTRY.ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return mask(text)


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
