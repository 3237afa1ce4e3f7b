"""Human words for a Sentry event: what happened, its emoji and colour, facts, summary and links."""

from __future__ import annotations

from router.sentry import SentryEvent, details
from router.sentry.details import Build, SeerRun
from router.sentry.issue import IssueFacts

RED, ORANGE, AMBER, GREEN, GREY, BLUE = "#E01E5A", "#F2711C", "#ECB22E", "#2EB67D", "#9EA0A5", "#1D9BD1"
# level -> (emoji, colour); metric alerts map their severity onto these levels (router/sentry/)
LEVEL_STYLE = {"fatal": ("🔴", RED), "error": ("🟠", ORANGE), "warning": ("🟡", AMBER),
               "info": ("🔵", BLUE), "debug": ("⚪", GREY)}
NEUTRAL = ("🔵", BLUE)

# (resource, action) -> (emoji or None for "by level", colour or None for "by level", headline format)
HEADLINES: dict[tuple[str, str], tuple[str | None, str | None, str]] = {
    ("issue", "created"): (None, None, "New issue{in_project}"),
    ("issue", "resolved"): ("✅", GREEN, "Issue resolved{resolved_in}"),
    ("issue", "assigned"): ("👤", None, "Issue assigned to {assignee}"),
    ("issue", "ignored"): ("🔕", GREY, "Issue archived{until}"),
    ("issue", "archived"): ("🔕", GREY, "Issue archived{until}"),
    ("issue", "unresolved"): ("🔁", None, "Issue unresolved{substatus}"),
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
    ("activity_alert", "triggered"): ("🔔", None, "{activity}"),
    ("installation", "created"): ("🔌", GREEN, "Integration installed{in_org}"),
    ("installation", "deleted"): ("🔌", GREY, "Integration uninstalled{in_org}"),
}


# preprod actions when the build failed (`state: FAILED`): the headline says so
FAILED_HEADLINES = {"size_analysis_completed": "Size analysis failed{for_title}",
                    "build_distribution_completed": "Build distribution failed{for_title}"}
_RESOLUTIONS = {"in_next_release": " in the next release", "in_upcoming_release": " in the upcoming release",
                "in_commit": " in a commit", "with_commit": " in a commit"}
_SUBSTATUS = {"escalating": ": escalating", "regressed": ": regressed"}
_ARCHIVED = {"archived_until_escalating": " until it escalates", "archived_forever": " forever",
             "archived_until_condition_met": " until its condition is met"}
# activity_alert `activity.type` -> (emoji, colour or None for "by level", what happened)
ACTIVITIES: dict[str, tuple[str, str | None, str]] = {
    "seer_root_cause_started": ("🤖", BLUE, "Seer is looking for the root cause"),
    "seer_root_cause_completed": ("🤖", BLUE, "Seer root cause ready"),
    "seer_solution_started": ("🤖", BLUE, "Seer is working on a solution"),
    "seer_solution_completed": ("🤖", BLUE, "Seer solution ready"),
    "seer_coding_started": ("🤖", BLUE, "Seer started coding a fix"),
    "seer_coding_completed": ("🤖", BLUE, "Seer code changes ready"),
    "seer_pr_created": ("🤖", GREEN, "Seer opened a pull request"),
    "seer_pr_iteration_started": ("🤖", BLUE, "Seer started an iteration"),
    "seer_pr_iteration_completed": ("🤖", BLUE, "Seer iteration finished"),
    "status_resolved": ("✅", GREEN, "Issue resolved"),
    "status_resolved_in_release": ("✅", GREEN, "Issue resolved in a release"),
    "status_resolved_by_age": ("✅", GREEN, "Issue resolved after inactivity"),
    "status_resolved_in_commit": ("✅", GREEN, "Issue resolved in a commit"),
    "appeared_in_pull_request": ("🔗", BLUE, "Issue referenced in a pull request"),
    "status_unresolved": ("🔁", None, "Issue unresolved"),
    "status_ignored": ("🔕", GREY, "Issue archived"),
    "status_regression": ("🔁", None, "Issue regressed"),
    "status_escalating": ("📈", ORANGE, "Issue escalating"),
}


def pretty(word: str) -> str:
    """`root_cause_completed` → `Root cause completed`."""
    return word.replace("_", " ").replace(".", " ").strip().capitalize()


def style(event: SentryEvent) -> tuple[str, str]:
    """The (emoji, colour) for an event: fixed by its action (an activity alert's by its activity, a failed
    build red), else by its level."""
    emoji, color, _ = HEADLINES.get((event.resource, event.action), (None, None, ""))
    if event.resource == "activity_alert" and details.activity(event).type in ACTIVITIES:
        emoji, color, _ = ACTIVITIES[details.activity(event).type or ""]
    if event.resource == "preprod_artifact" and details.build_info(event).failed:
        emoji, color = "❌", RED
    by_level = LEVEL_STYLE.get(str(event.shortcuts.get("level", "")), NEUTRAL)
    return emoji or by_level[0], color or by_level[1]


def what(event: SentryEvent) -> str:
    """What happened, in words: `New issue in api`, `Issue resolved`, `Seer root cause ready`."""
    s = event.shortcuts
    _, _, fmt = HEADLINES.get((event.resource, event.action),
                              (None, None, f"{pretty(event.resource)} {event.action.replace('_', ' ')}"))
    if event.resource == "preprod_artifact" and details.build_info(event).failed:
        fmt = FAILED_HEADLINES.get(event.action, "Build failed{for_title}")
    org = details.organization(event)
    values = {
        "resolved_in": resolved_in(event),
        "substatus": _SUBSTATUS.get(details.substatus(event) or "", ""),
        "until": _ARCHIVED.get(details.substatus(event) or "", ""),
        "activity": _activity(event),
        "in_project": f" in {s['project']}" if s.get("project") else "",
        "for_title": f" for {s['title']}" if s.get("title") else "",
        "in_org": f" in {org}" if org else "",
        "assignee": s.get("assignee") or "someone",
        "rule": s.get("triggered_rule") or s.get("title") or "alert",
        "alert": details.alert_title(event) or s.get("title") or "issue",
    }
    return fmt.format(**values)


def resolved_in(event: SentryEvent) -> str:
    """How an `issue.resolved` was resolved, as words after "resolved": ` in release api@2.4.1`, ` in the next
    release`, or nothing (resolved now)."""
    how = details.resolution(event)
    if how.release == "latest":
        return " in the latest release"
    if how.release:
        return f" in release {how.release}"
    return _RESOLUTIONS.get(how.type or "", "")


def _activity(event: SentryEvent) -> str:
    act = details.activity(event)
    said = ACTIVITIES[act.type][2] if act.type in ACTIVITIES else pretty(act.type or "activity alert")
    return f"{said} by {act.user}" if act.user else said


def actor_name(event: SentryEvent) -> str:
    """Who acted: the user's name, or the application's (`Sentry` for alerts)."""
    return details.actor(event).name or ""


def title(event: SentryEvent, issue: IssueFacts | None = None) -> str:
    """The event's title, else its issue's (remembered from an earlier webhook), else a stand-in."""
    s = event.shortcuts
    if s.get("title"):
        return str(s["title"])
    if issue is not None and issue.title:
        return issue.title
    if event.resource == "installation":
        return details.app_slug(event) or "Sentry integration"
    if event.resource == "preprod_artifact" and event.data.get("buildId") not in (None, ""):
        return f"Build {event.data['buildId']}"
    if s.get("issue_id"):
        return f"Issue {(issue.short_id if issue else None) or s.get('short_id') or s['issue_id']}"
    return pretty(f"{event.resource} {event.action}")


def facts(event: SentryEvent, issue: IssueFacts | None = None) -> list[tuple[str, str]]:
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
        ("Issue", s.get("short_id") or (issue.short_id if issue else None)),
        ("Alert rule", s.get("triggered_rule") if res in ("event_alert", "metric_alert") else None),
        ("Alert", details.alert_title(event) if res == "activity_alert" else None),
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


def _words(*parts: str | None, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _seer_summary(run: SeerRun) -> str:
    if run.findings is not None:
        steps = [f"{i}. {step}" for i, step in enumerate(run.findings.steps, 1)]
        return "\n".join(line for line in [run.findings.description or ""] + steps if line)
    if run.changes:
        return "\n".join(_words(c.title or "Code change", _paren(_words(c.repo, c.branch and f"branch {c.branch}",
                                                                      sep=", ")))
                         for c in run.changes)
    return "\n".join(_words("Pull request", p.number and f"#{p.number}", p.repo and f"in {p.repo}")
                     for p in run.pull_requests)


def _paren(text: str) -> str:
    return f"({text})" if text else ""


def _size(n: float | None) -> str | None:
    return None if n is None else f"{n / 1_000_000:.1f} MB"


def _preprod_summary(build: Build) -> str:
    head = _words(build.app_name, build.version, _paren(build.build_number or ""))
    if build.failed or build.error:
        said = _words("Failed" if build.failed else None, _paren(build.error_code or "") if build.failed else None)
        said = _words(said, build.error, sep=": ") if said else build.error or ""
        return f"{head}: {said}" if head else said
    sizes = _words(_size(build.install_size) and f"install size {_size(build.install_size)}",
                   _size(build.download_size) and f"download size {_size(build.download_size)}", sep=", ")
    head = head or "App"
    if sizes:
        return f"{head}: {sizes}"
    kind = _words((build.platform or "").lower(), build.artifact_type)
    return f"{head}, {kind}" if kind else head


def links(event: SentryEvent) -> list[tuple[str, str]]:
    """Secondary links worth a button: pull requests (Seer's, an activity's)."""
    prs = details.seer(event).pull_requests + details.activity(event).pull_requests
    return [(_words("View PR", p.number and f"#{p.number}", None if p.number else p.repo and f"in {p.repo}"), p.url)
            for p in prs if p.url][:4]
