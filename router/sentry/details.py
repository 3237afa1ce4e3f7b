"""The human-facing facts templates need, read out of a webhook's payload: plain values, no wording.

Every text value is a `str`, or None when the payload has none (absent, null, empty — or any falsy value, such
as 0, where the wording used to skip those); formatting them is `router/render/`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.sentry.event import SentryEvent
from router.sentry.shortcuts import dig


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _present(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Actor:
    """Who acted: a user, an integration, or Sentry itself (`id` "sentry", for alerts)."""

    name: str | None
    type: str | None
    id: str | None

    @property
    def is_user(self) -> bool:
        """A person, not an application."""
        return self.type == "user"

    @property
    def is_sentry(self) -> bool:
        """Sentry's own automation (alerts), not a person or an integration."""
        return self.id == "sentry"


def actor(event: SentryEvent) -> Actor:
    """The webhook's actor."""
    raw = event.actor or {}
    return Actor(_text(raw.get("name")), _text(raw.get("type")), None if raw.get("id") is None else str(raw["id"]))


def organization(event: SentryEvent) -> str | None:
    """The organization's slug (installation webhooks carry it in the data, others in the envelope)."""
    return _text(dig(event.data, "installation", "organization", "slug")
                 or dig(event.installation, "organization", "slug"))


def app_slug(event: SentryEvent) -> str | None:
    """The integration's slug, from an installation webhook."""
    return _text(dig(event.data, "installation", "app", "slug"))


def alert_title(event: SentryEvent) -> str | None:
    """The title of the alert an activity alert is about."""
    return _text(dig(event.data, "alert", "title"))


def git_branch(event: SentryEvent) -> str | None:
    """The branch a preprod build was made from."""
    return _present(dig(event.data, "gitInfo", "headRef"))


def summary_text(event: SentryEvent) -> str | None:
    """The event's own words: a comment, a metric alert's description, an activity's summary, an error's message.

    An error's message counts only when it says more than its title (it often repeats it).
    """
    data, res = event.data, event.resource
    if res == "comment":
        return _text(data.get("comment"))
    if res == "metric_alert":  # Sentry's text may hold a literal backslash-n where it means a line break
        text = _text(data.get("description_text"))
        return text.replace("\\n", "\n") if text else None
    if res == "activity_alert":
        return _text(dig(data, "activity", "details", "summary"))
    if res in ("error", "event_alert"):
        message = dig(data.get("error" if res == "error" else "event") or {}, "message")
        return _text(message) if message != event.shortcuts.get("title") else None
    return None


@dataclass(frozen=True)
class Resolution:
    """How an issue was resolved: in a release (`latest` for the latest one), or by a resolution type."""

    release: str | None
    type: str | None


def resolution(event: SentryEvent) -> Resolution:
    """The release and resolution type of an `issue.resolved`."""
    kind = event.data.get("resolution_type")
    return Resolution(_text(dig(event.data, "issue", "statusDetails", "inRelease")),
                      None if kind is None else str(kind))


def substatus(event: SentryEvent) -> str | None:
    """The issue's substatus (`escalating`, `regressed`, `ongoing`, …)."""
    return _text(dig(event.data, "issue", "substatus"))


@dataclass(frozen=True)
class SeerFindings:
    """Seer's root cause or solution: its description and the titles of its steps."""

    description: str | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class SeerChange:
    """A code change Seer made: its title, repository and branch."""

    title: str | None
    repo: str | None
    branch: str | None


@dataclass(frozen=True)
class SeerPullRequest:
    """A pull request Seer opened."""

    number: str | None
    repo: str | None
    url: str | None


@dataclass(frozen=True)
class SeerRun:
    """What a Seer webhook reports: findings (root cause, else solution), code changes, pull requests."""

    findings: SeerFindings | None
    changes: tuple[SeerChange, ...]
    pull_requests: tuple[SeerPullRequest, ...]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def seer(event: SentryEvent) -> SeerRun:
    """The findings, changes and pull requests of a `seer.*` webhook (empty for other resources)."""
    data = event.data if event.resource == "seer" else {}
    findings = None
    for key in ("root_cause", "solution"):
        if isinstance(data.get(key), Mapping):
            steps = tuple(str(dig(step, "title")) for step in _list(data[key].get("steps")) if dig(step, "title"))
            findings = SeerFindings(_text(data[key].get("description")), steps)
            break
    changes = tuple(SeerChange(_text(c.get("title")), _str(c.get("repo_name")), _str(c.get("branch_name")))
                    for c in _mappings(data.get("changes")))
    return SeerRun(findings, changes, _pull_requests(data.get("pull_requests")))


def _pull_requests(value: Any) -> tuple[SeerPullRequest, ...]:
    """Pull requests nested (`pull_request.pr_url`), flat (`pr_url`, `pr_number`) or as activities give them
    (`url`)."""
    return tuple(SeerPullRequest(_str(dig(p, "pull_request", "pr_number") or p.get("pr_number")),
                                 _str(p.get("repo_name")),
                                 _text(dig(p, "pull_request", "pr_url") or p.get("pr_url") or p.get("url")))
                 for p in _mappings(value))


@dataclass(frozen=True)
class Activity:
    """What an activity alert reports: the activity type (`status_resolved`, `seer_pr_created`…), who, PRs."""

    type: str | None
    user: str | None
    pull_requests: tuple[SeerPullRequest, ...]


def activity(event: SentryEvent) -> Activity:
    """The activity of an `activity_alert.triggered` (empty for other resources)."""
    act = event.data.get("activity") if event.resource == "activity_alert" else None
    act = act if isinstance(act, Mapping) else {}
    det = act.get("details")
    det = det if isinstance(det, Mapping) else {}
    user = det.get("user")
    user = user if isinstance(user, Mapping) else {}
    return Activity(_text(act.get("type")), _text(user.get("name") or user.get("username")),
                    _pull_requests(det.get("pull_requests")))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Build:
    """A preprod build: app name, version, build number, platform, artifact type, error and sizes (bytes)."""

    app_name: str | None
    version: str | None
    build_number: str | None
    platform: str | None
    artifact_type: str | None
    error: str | None
    error_code: str | None
    failed: bool                    # `state: FAILED` (the webhook fires on failure too)
    sizes_reported: bool            # the payload has size fields, even null ones
    install_size: float | None
    download_size: float | None


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) else None


def build_info(event: SentryEvent) -> Build:
    """The app and build a `preprod_artifact.*` webhook is about."""
    data = event.data
    app = data.get("appInfo") or {}
    return Build(_text(app.get("name")), _text(app.get("version")), _text(app.get("buildNumber")),
                 _text(data.get("platform")), _text(app.get("artifactType")), _text(data.get("errorMessage")),
                 _text(data.get("errorCode")), str(data.get("state") or "").upper() == "FAILED",
                 "installSize" in data or "downloadSize" in data,
                 _number(data.get("installSize")), _number(data.get("downloadSize")))


def incident_id(event: SentryEvent) -> str | None:
    """The id of the incident a metric alert is about, as text; None for other events or when it has none."""
    incident = dig(event.data, "metric_alert", "id") if event.resource == "metric_alert" else None
    return None if incident in (None, "") else str(incident)
