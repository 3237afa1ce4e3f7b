"""The compiled, frozen rule objects that loading produces and matching reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TARGET_TYPES = ("slack", "email", "apprise", "console")
# the type of a notification whose `notify: [{setting: …}]` named no declared target: the worker dead-letters it
UNRESOLVED = "unresolved"
# the type of the job an installation webhook gets when SENTRY_CLIENT_ID is set: the worker exchanges or drops
# the installation's token (router/sentry_app/tokens.py)
SENTRY_APP = "sentry_app"


@dataclass(frozen=True)
class Target:
    """A named destination from `targets:`; options are validated and ${VAR}-substituted."""

    name: str
    type: str                       # one of TARGET_TYPES
    options: Mapping[str, Any]      # slack: channel | webhook_url, thread, broadcast; email: to; apprise: urls
    line: int = 0
    selectable: bool = False        # offered in Sentry's alert-rule editor (GET /sentry/options/targets)
    label: str = ""                 # what that editor shows (default: the name)


@dataclass(frozen=True)
class RulesSettings:
    """The `settings:` block, durations in seconds."""

    dedup_window: float = 1200.0
    default_throttle: float = 0.0


@dataclass(frozen=True)
class GroupBy:
    """A rule's `group:`: notifications with equal values at `by` go out together, first after `wait` seconds,
    then at most every `interval` seconds (Alertmanager's group_by, group_wait, group_interval)."""

    by: tuple[str, ...] = ()
    wait: float = 30.0
    interval: float = 300.0


@dataclass(frozen=True)
class Rule:
    """One compiled rule; `match` is the compiled condition tree (see match.py)."""

    name: str
    match: Any
    notify: tuple[str, ...] = ()
    notify_settings: tuple[str, ...] = ()   # `notify: [{setting: NAME}]`: the target the alert-rule action chose
    template: str | None = None
    throttle: float | None = None   # seconds; None = settings.default_throttle
    stop: bool = False
    description: str = ""
    line: int = 0
    mute_time_intervals: tuple[str, ...] = ()     # names from `time_intervals:`: held back while any holds
    active_time_intervals: tuple[str, ...] = ()   # sent only while one of these holds
    group: GroupBy | None = None    # `group:`; None = each notification on its own


@dataclass(frozen=True)
class RuleSet:
    """Everything a rules file says, compiled once."""

    rules: tuple[Rule, ...]
    targets: Mapping[str, Target]
    settings: RulesSettings = field(default_factory=RulesSettings)
    source: str = ""                # the file it came from
    digest: str = ""                # sha256 hex of the file's bytes
    index: Any = None               # match.py's per-(resource, action) index, built at load
    time_intervals: Mapping[str, Any] = field(default_factory=dict)   # name → intervals.TimeInterval


@dataclass(frozen=True)
class Notification:
    """One (rule, target) pair a webhook must be delivered to."""

    rule: Rule
    target: Target


@dataclass(frozen=True)
class MatchResult:
    """The rules that matched, in order (a stop rule included), and one notification per target."""

    matched: tuple[str, ...]
    notifications: tuple[Notification, ...]
    rules: str = ""                 # the first 12 hex digits of the routing rules file's sha256
