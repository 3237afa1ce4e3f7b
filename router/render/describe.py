"""Human words for a Sentry event: what happened, its emoji and colour, facts, summary and links."""

from __future__ import annotations

from router.sentry import SentryEvent, details
from router.sentry.details import Build, SeerRun

RED, ORANGE, AMBER, GREEN, GREY, BLUE = "#E01E5A", "#F2711C", "#ECB22E", "#2EB67D", "#9EA0A5", "#1D9BD1"
# level -> (emoji, colour); metric alerts map their severity onto these levels (router/sentry/)
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
    org = details.organization(event)
    values = {
        "in_project": f" in {s['project']}" if s.get("project") else "",
        "for_title": f" for {s['title']}" if s.get("title") else "",
        "in_org": f" in {org}" if org else "",
        "assignee": s.get("assignee") or "someone",
        "rule": s.get("triggered_rule") or s.get("title") or "alert",
        "alert": details.alert_title(event) or s.get("title") or "issue",
    }
    return fmt.format(**values)


def actor_name(event: SentryEvent) -> str:
    """Who acted: the user's name, or the application's (`Sentry` for alerts)."""
    return details.actor(event).name or ""


def title(event: SentryEvent) -> str:
    """The event's title, with a sensible stand-in where the payload has none."""
    s = event.shortcuts
    if s.get("title"):
        return str(s["title"])
    if event.resource == "installation":
        return details.app_slug(event) or "Sentry integration"
    if s.get("issue_id"):
        return f"Issue {s.get('short_id') or s['issue_id']}"
    return pretty(f"{event.resource} {event.action}")


def facts(event: SentryEvent) -> list[tuple[str, str]]:
    """Label/value pairs worth a glance (project, level, environment, who, release…); absent ones left out."""
    s, res = event.shortcuts, event.resource
    level_label = "Severity" if res == "metric_alert" else "Level"
    level = event.action if res == "metric_alert" else s.get("level")
    actor = details.actor(event)
    pairs = [
        ("Project", s.get("project")),
        (level_label, level),
        ("Environment", s.get("environment")),
        ("Assignee", s.get("assignee")),
        ("By", actor.name if actor.is_user else None),
        ("Release", s.get("release")),
        ("Issue", s.get("short_id")),
        ("Alert rule", s.get("triggered_rule") if res in ("event_alert", "metric_alert") else None),
        ("Branch", details.git_branch(event)),
    ]
    return [(label, str(value)) for label, value in pairs if value not in (None, "")]


def summary(event: SentryEvent) -> str:
    """The main text of the event: culprit, comment, alert description, Seer's findings…"""
    res = event.resource
    if res == "seer":
        return _seer_summary(details.seer(event))
    if res == "preprod_artifact":
        return _preprod_summary(details.build_info(event))
    text = details.summary_text(event)
    if res in ("comment", "metric_alert"):
        return text or ""
    return text or str(event.shortcuts.get("culprit") or "")


def _seer_summary(run: SeerRun) -> str:
    if run.findings is not None:
        steps = [f"{i}. {step}" for i, step in enumerate(run.findings.steps, 1)]
        return "\n".join(line for line in [run.findings.description or ""] + steps if line)
    if run.changes:
        return "\n".join(f"{c.title or 'change'} ({c.repo}, branch {c.branch})" for c in run.changes)
    return "\n".join(f"PR #{p.number} in {p.repo}" for p in run.pull_requests)


def _size(n: float | None) -> str:
    return "?" if n is None else f"{n / 1_000_000:.1f} MB"


def _preprod_summary(build: Build) -> str:
    head = f"{build.app_name or 'App'} {build.version or ''} ({build.build_number or '?'})".strip()
    if build.error:
        return f"{head}: {build.error}"
    if build.sizes_reported:
        return f"{head}: install size {_size(build.install_size)}, download size {_size(build.download_size)}"
    return f"{head}, {(build.platform or '').lower()} {build.artifact_type or ''}".rstrip(", ")


def links(event: SentryEvent) -> list[tuple[str, str]]:
    """Secondary links worth a button: pull requests, install pages."""
    prs = details.seer(event).pull_requests
    return [(f"View PR #{p.number}", p.url) for p in prs if p.url][:4]
