"""The options of a `type: slack` target in rules.yaml: `channel` or `webhook_url`, `thread`, `broadcast`."""

from __future__ import annotations

import re
from typing import Any

from router.masking import mask_url
from router.rules.conditions import kind
from router.rules.targets import TargetType, strings
from router.rules.yamlio import LList, LMap, Path, Report

THREAD_MODES = ("issue", "none")
_HTTP_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def read_options(spec: LMap, path: Path, report: Report) -> dict[str, Any]:
    """Check a slack target's options, reporting each problem; the options as read."""
    def where(key: str) -> int:
        return spec.value_lines.get(key, spec.line)

    has_channel, has_hook = "channel" in spec, "webhook_url" in spec
    if has_channel == has_hook:
        both = "webhook_url: not allowed together with channel" if has_channel else "channel: missing"
        report(spec.key_lines.get("webhook_url", spec.line), (*path, both.split(":")[0]), both.split(": ", 1)[1] +
               " (expected exactly one of channel, posted with SLACK_BOT_TOKEN, or webhook_url, an incoming webhook)")
        return {}
    options: dict[str, Any] = {}
    if has_channel:
        if not isinstance(spec["channel"], str) or not spec["channel"].strip():
            report(where("channel"), (*path, "channel"),
                   f'expected a channel name or id like "#oncall", got {kind(spec["channel"])}')
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
        report(where("thread"), (*path, "thread"),
               "incoming webhooks can't thread (use channel: with SLACK_BOT_TOKEN, or thread: none)")
    options["thread"] = thread
    broadcast = spec.get("broadcast", LList())
    actions = strings(broadcast) if broadcast else []
    if actions is None:
        report(where("broadcast"), (*path, "broadcast"),
               f"expected a list of actions like [resolved], got {kind(broadcast)}")
    elif actions and thread != "issue":
        report(where("broadcast"), (*path, "broadcast"), "only threaded targets broadcast (thread: issue)")
    options["broadcast"] = tuple(actions or ())
    return options


SLACK = TargetType("slack", ("channel", "webhook_url", "thread", "broadcast"), read_options)
