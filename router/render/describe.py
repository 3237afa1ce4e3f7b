"""Human words for a Sentry event: what happened, its emoji and colour, facts, summary and links."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.sentry import SentryEvent

RED, ORANGE, AMBER, GREEN, GREY, BLUE = "#E01E5A", "#F2711C", "#ECB22E", "#2EB67D", "#9EA0A5", "#1D9BD1"
# level -> (emoji, colour); metric alerts map their severity onto these levels (sentry.py)
LEVEL_STYLE = {"fatal": ("🔴", RED), "error": ("🟠", ORANGE), "warning": ("🟡", AMBER),
               "info": ("✅", GREEN), "debug": ("⚪", GREY)}
NEUTRAL = ("🔵", BLUE)

# (resource, action) -> (emoji or None for "by level", colour or None for "by level", headline format)
HEADLINES: dict[tuple[str, str], tuple[str | None, str | None, str]] = {
    ("issue", "created"): (None, None, "New issue{in_project}"),
    ("issue", "resolved"): ("✅", GREEN, "Issue resolved"),
    ("issue", "assigned"): ("👤", None, "Issue assigned to {assignee}"),
    ("issue", "ignored"): ("🔕", GREY, "Issue archived"),
    ("issue", "archived"): ("🔕", GREY, "Issue archived"),
    ("issue", "unresolved"): ("🔁", None, "Issue unresolved"),
    ("error", "created"): (None, None, "New error{in_project}"),
    ("event_alert", "triggered"): ("🚨", None, "Alert triggered: {rule}"),
    ("metric_alert", "critical"): ("🚨", RED, "Metric alert critical: {rule}"),
    ("metric_alert", "warning"): ("⚠️", AMBER, "Metric alert warning: {rule}"),
    ("metric_alert", "resolved"): ("✅", GREEN, "Metric alert resolved: {rule}"),
    ("metric_alert", "open"): ("⚠️", AMBER, "Metric alert open: {rule}"),
    ("comment", "created"): ("💬", BLUE, "New comment"),
    ("comment", "updated"): ("✏️", BLUE, "Comment edited"),
    ("comment", "deleted"): ("🗑️", GREY, "Comment deleted"),
    ("seer", "root_cause_started"): ("🤖", BLUE, "Seer is looking for the root cause"),
    ("seer", "root_cause_completed"): ("🤖", BLUE, "Seer root cause ready"),
    ("seer", "solution_started"): ("🤖", BLUE, "Seer is working on a solution"),
    ("seer", "solution_completed"): ("🤖", BLUE, "Seer solution ready"),
    ("seer", "coding_started"): ("🤖", BLUE, "Seer started coding a fix"),
    ("seer", "coding_completed"): ("🤖", BLUE, "Seer code changes ready"),
    ("seer", "pr_created"): ("🤖", GREEN, "Seer opened a pull request"),
    ("seer", "iteration_started"): ("🤖", BLUE, "Seer started an iteration"),
    ("seer", "iteration_completed"): ("🤖", BLUE, "Seer iteration finished"),
    ("preprod_artifact", "size_analysis_completed"): ("📦", BLUE, "Size analysis ready{for_title}"),
    ("preprod_artifact", "build_distribution_completed"): ("📦", GREEN, "Build ready to install{for_title}"),
    ("activity_alert", "triggered"): ("🔔", None, "Activity alert: {alert}"),
    ("installation", "created"): ("🔌", GREEN, "Integration installed{in_org}"),
    ("installation", "deleted"): ("🔌", GREY, "Integration uninstalled{in_org}"),
}


def _get(obj: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(obj, Mapping):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def pretty(word: str) -> str:
    """`root_cause_completed` → `Root cause completed`."""
    return word.replace("_", " ").replace(".", " ").strip().capitalize()


def style(event: SentryEvent) -> tuple[str, str]:
    """The (emoji, colour) for an event: fixed by its action, else by its level."""
    emoji, color, _ = HEADLINES.get((event.resource, event.action), (None, None, ""))
    by_level = LEVEL_STYLE.get(str(event.shortcuts.get("level", "")), NEUTRAL)
    return emoji or by_level[0], color or by_level[1]


def what(event: SentryEvent) -> str:
    """What happened, in words: `New issue in api`, `Issue resolved`, `Seer root cause ready`."""
    s = event.shortcuts
    _, _, fmt = HEADLINES.get((event.resource, event.action),
                              (None, None, f"{pretty(event.resource)} {event.action.replace('_', ' ')}"))
    org = _get(event.data, "installation", "organization", "slug") or _get(event.installation, "organization", "slug")
    values = {
        "in_project": f" in {s['project']}" if s.get("project") else "",
        "for_title": f" for {s['title']}" if s.get("title") else "",
        "in_org": f" in {org}" if org else "",
        "assignee": s.get("assignee") or "someone",
        "rule": s.get("triggered_rule") or s.get("title") or "alert",
        "alert": _get(event.data, "alert", "title") or s.get("title") or "issue",
    }
    return fmt.format(**values)


def actor_name(event: SentryEvent) -> str:
    """Who acted: the user's name, or the application's (`Sentry` for alerts)."""
    return str(_get(event.actor, "name") or "")


def title(event: SentryEvent) -> str:
    """The event's title, with a sensible stand-in where the payload has none."""
    s = event.shortcuts
    if s.get("title"):
        return str(s["title"])
    if event.resource == "installation":
        return str(_get(event.data, "installation", "app", "slug") or "Sentry integration")
    if s.get("issue_id"):
        return f"Issue {s.get('short_id') or s['issue_id']}"
    return pretty(f"{event.resource} {event.action}")


def facts(event: SentryEvent) -> list[tuple[str, str]]:
    """Label/value pairs worth a glance (project, level, environment, who, release…); absent ones left out."""
    s, res = event.shortcuts, event.resource
    level_label = "Severity" if res == "metric_alert" else "Level"
    level = event.action if res == "metric_alert" else s.get("level")
    actor = event.actor or {}
    pairs = [
        ("Project", s.get("project")),
        (level_label, level),
        ("Environment", s.get("environment")),
        ("Assignee", s.get("assignee")),
        ("By", actor.get("name") if actor.get("type") == "user" else None),
        ("Release", s.get("release")),
        ("Issue", s.get("short_id")),
        ("Alert rule", s.get("triggered_rule") if res in ("event_alert", "metric_alert") else None),
        ("Branch", _get(event.data, "gitInfo", "headRef")),
    ]
    return [(label, str(value)) for label, value in pairs if value not in (None, "")]


def summary(event: SentryEvent) -> str:
    """The main text of the event: culprit, comment, alert description, Seer's findings…"""
    data, res = event.data, event.resource
    if res == "comment":
        return str(data.get("comment") or "")
    if res == "metric_alert":
        return str(data.get("description_text") or "")
    if res == "seer":
        return _seer_summary(data)
    if res == "preprod_artifact":
        return _preprod_summary(data)
    if res == "activity_alert":
        return str(_get(data, "activity", "details", "summary") or event.shortcuts.get("culprit") or "")
    if res in ("error", "event_alert"):
        obj = data.get("error" if res == "error" else "event") or {}
        message = _get(obj, "message")
        if message and message != event.shortcuts.get("title"):
            return str(message)
    return str(event.shortcuts.get("culprit") or "")


def _seer_summary(data: Mapping[str, Any]) -> str:
    for key in ("root_cause", "solution"):
        if isinstance(data.get(key), Mapping):
            steps = [str(_get(st, "title")) for st in data[key].get("steps") or [] if _get(st, "title")]
            lines = [str(data[key].get("description") or "")] + [f"{i}. {t}" for i, t in enumerate(steps, 1)]
            return "\n".join(line for line in lines if line)
    changes = [c for c in data.get("changes") or [] if isinstance(c, Mapping)]
    if changes:
        return "\n".join(f"{c.get('title') or 'change'} ({c.get('repo_name')}, branch {c.get('branch_name')})"
                         for c in changes)
    prs = [p for p in data.get("pull_requests") or [] if isinstance(p, Mapping)]
    return "\n".join(f"PR #{_get(p, 'pull_request', 'pr_number')} in {p.get('repo_name')}" for p in prs)


def _size(n: Any) -> str:
    return f"{n / 1_000_000:.1f} MB" if isinstance(n, (int, float)) else "?"


def _preprod_summary(data: Mapping[str, Any]) -> str:
    app = data.get("appInfo") or {}
    head = f"{app.get('name') or 'App'} {app.get('version') or ''} ({app.get('buildNumber') or '?'})".strip()
    if data.get("errorMessage"):
        return f"{head}: {data['errorMessage']}"
    if "installSize" in data or "downloadSize" in data:
        return f"{head}: install size {_size(data.get('installSize'))}, download size {_size(data.get('downloadSize'))}"
    return f"{head}, {str(data.get('platform') or '').lower()} {str(app.get('artifactType') or '')}".rstrip(", ")


def links(event: SentryEvent) -> list[tuple[str, str]]:
    """Secondary links worth a button: pull requests, install pages."""
    found: list[tuple[str, str]] = []
    for p in event.data.get("pull_requests") or [] if event.resource == "seer" else []:
        url = _get(p, "pull_request", "pr_url")
        if url:
            found.append((f"View PR #{_get(p, 'pull_request', 'pr_number')}", str(url)))
    return found[:4]
