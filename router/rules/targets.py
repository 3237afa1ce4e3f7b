"""`targets:` entries: validated per type into frozen Target objects."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from email.utils import parseaddr
from types import MappingProxyType
from typing import Any

from router.masking import mask_url, register_options
from router.rules.conditions import kind
from router.rules.model import TARGET_TYPES, Target
from router.rules.yamlio import LList, LMap, Path, Report

COMMON_KEYS = ("selectable", "label")   # every type: offered in Sentry's alert-rule editor, and as what
KEYS = {
    "slack": ("type", "channel", "webhook_url", "thread", "broadcast", *COMMON_KEYS),
    "email": ("type", "to", "subject_prefix", *COMMON_KEYS),
    "apprise": ("type", "url", *COMMON_KEYS),
    "console": ("type", *COMMON_KEYS),
}
THREAD_MODES = ("issue", "none")
_HTTP_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def unknown_keys(mapping: LMap, allowed: tuple[str, ...], path: Path, report: Report) -> None:
    """Report every key of `mapping` not in `allowed`, with a did-you-mean when one is close."""
    import difflib

    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            report(mapping.key_lines[key], (*path, key), f"unknown key{hint} (expected one of {', '.join(allowed)})")


def strings(value: Any) -> list[str] | None:
    """One string or a non-empty list of strings, as a list; None if it is neither."""
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, LList) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


def build_target(name: str, spec: Any, path: Path, line: int, report: Report) -> Target | None:
    """Validate one target; report every problem; None if it is unusable."""
    if not isinstance(spec, LMap):
        report(line, path, f"expected a mapping with type: and its options, got {kind(spec)}")
        return None
    type_ = spec.get("type")
    if type_ not in TARGET_TYPES:
        got = "missing" if "type" not in spec else f'unknown target type "{type_}"'
        report(spec.value_lines.get("type", spec.line), (*path, "type"), f"{got} (expected one of {', '.join(TARGET_TYPES)})")
        return None
    unknown_keys(spec, KEYS[type_], path, report)
    options = _VALIDATORS[type_](spec, path, report)
    selectable, label = spec.get("selectable", False), spec.get("label", name)
    if not isinstance(selectable, bool):
        report(spec.value_lines["selectable"], (*path, "selectable"), f"expected true or false, got {kind(selectable)}")
    if not isinstance(label, str) or not label.strip():
        report(spec.value_lines["label"], (*path, "label"), f"expected text shown in Sentry's alert-rule editor, "
                                                           f"got {kind(label)}")
    register_options(options)   # the log formatter masks them from now on, at every level
    return Target(name=name, type=type_, options=MappingProxyType(options), line=spec.line,
                  selectable=selectable is True, label=str(label or name))


def _slack(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    where: Callable[[str], int] = lambda key: spec.value_lines.get(key, spec.line)  # noqa: E731
    has_channel, has_hook = "channel" in spec, "webhook_url" in spec
    if has_channel == has_hook:
        both = "webhook_url: not allowed together with channel" if has_channel else "channel: missing"
        report(spec.key_lines.get("webhook_url", spec.line), (*path, both.split(":")[0]), both.split(": ", 1)[1] +
               " (expected exactly one of channel, posted with SLACK_BOT_TOKEN, or webhook_url, an incoming webhook)")
        return {}
    options: dict[str, Any] = {}
    if has_channel:
        if not isinstance(spec["channel"], str) or not spec["channel"].strip():
            report(where("channel"), (*path, "channel"), f'expected a channel name or id like "#oncall", got {kind(spec["channel"])}')
        options["channel"] = spec["channel"]
    else:
        url = spec["webhook_url"]
        if not isinstance(url, str) or not _HTTP_URL.match(url):
            shown = f'"{mask_url(url)}"' if isinstance(url, str) and url else kind(url)
            report(where("webhook_url"), (*path, "webhook_url"),
                   f"expected an https:// incoming-webhook URL, got {shown}")
        options["webhook_url"] = url
    thread = spec.get("thread", "issue" if has_channel else "none")
    if thread not in THREAD_MODES:
        report(where("thread"), (*path, "thread"), f'expected issue or none, got "{thread}"')
    elif thread == "issue" and has_hook:
        report(where("thread"), (*path, "thread"), "incoming webhooks can't thread (use channel: with SLACK_BOT_TOKEN, or thread: none)")
    options["thread"] = thread
    broadcast = spec.get("broadcast", LList())
    actions = strings(broadcast) if broadcast else []
    if actions is None:
        report(where("broadcast"), (*path, "broadcast"), f"expected a list of actions like [resolved], got {kind(broadcast)}")
    elif actions and thread != "issue":
        report(where("broadcast"), (*path, "broadcast"), "only threaded targets broadcast (thread: issue)")
    options["broadcast"] = tuple(actions or ())
    return options


def _one_or_more(spec: LMap, key: str, expected: str, path: Path, report: Report) -> tuple[int, list[str] | None]:
    """The line of `key` and its text or list of texts; None (reported as missing or wrong type) otherwise."""
    line = spec.value_lines.get(key, spec.line)
    values = strings(spec.get(key))
    if values is None:
        got = "missing" if key not in spec else f"got {kind(spec[key])}"
        report(line, (*path, key), f"{got} (expected {expected})")
    return line, values


def _email(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    line, addresses = _one_or_more(spec, "to", "an address or a list of addresses", path, report)
    if addresses is None:
        return {}
    for address in addresses:
        _, addr = parseaddr(address)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost", addr or ""):
            report(line, (*path, "to"), f'not an email address: "{address}" (expected name@example.com)')
    prefix = spec.get("subject_prefix", "")
    if not isinstance(prefix, str):
        report(spec.value_lines["subject_prefix"], (*path, "subject_prefix"), f"expected text, got {kind(prefix)}")
    return {"to": tuple(addresses), "subject_prefix": prefix}


def _apprise(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    line, urls = _one_or_more(spec, "url", "an Apprise URL or a list of them", path, report)
    if urls is None:
        return {}
    for url in urls:
        if not apprise_understands(url):
            report(line, (*path, "url"), f'Apprise does not understand "{mask_url(url)}" '
                                         "(expected a URL of a service Apprise supports, e.g. discord://ID/TOKEN)")
    return {"urls": tuple(urls)}


def apprise_understands(url: str) -> bool:
    """Whether Apprise can build a notifier from `url` (parses only; sends nothing)."""
    import apprise  # slow to import (~0.5 s): only when an apprise target exists

    logger = logging.getLogger("apprise")
    level = logger.level
    logger.setLevel(logging.CRITICAL)   # Apprise logs its own complaint; ours is the one users see
    try:
        return apprise.Apprise.instantiate(url) is not None
    except Exception:  # noqa: BLE001 - a plugin that crashes on a URL does not understand it
        return False
    finally:
        logger.setLevel(level)


_VALIDATORS: dict[str, Callable[[LMap, Path, Report], dict[str, Any]]] = {
    "slack": _slack, "email": _email, "apprise": _apprise, "console": lambda spec, path, report: {},
}
