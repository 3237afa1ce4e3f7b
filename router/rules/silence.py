"""Silences: what one is (conditions in the rules' own language, a start, a required end), validated once.

Shared by the admin API and `sentry-router silence add`; storing them is `delivery/silence_store.py`'s job
and applying them the worker's quiet step (`delivery/quiet.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from router.rules.conditions import Compiler, Group
from router.rules.load import parse_duration
from router.rules.yamlio import Path, YamlSyntaxError, parse_yaml

KEYS = ("match", "duration", "ends_at", "starts_at", "until_resolved", "reason", "created_by")
MAX_TEXT = 1000


class SilenceError(ValueError):
    """A silence that cannot be made; `.errors` has one `key.path: what is wrong` line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Silence:
    """One silence as stored: times are epoch seconds; `ends_at` None means until `issue_id` is resolved."""

    id: str
    match: Mapping[str, Any]
    starts_at: float
    ends_at: float | None
    created_at: float
    reason: str = ""
    created_by: str = ""
    issue_id: str = ""            # until this issue is resolved (the router sees its issue.resolved webhook)
    ended_at: float | None = None  # ended early: expired by hand, or the issue was resolved
    ended_why: str = ""

    def active(self, now: float) -> bool:
        """Whether it holds notifications back at `now`."""
        return self.ended_at is None and self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def finished_at(self) -> float | None:
        """When it stopped holding anything back (None while it may still)."""
        ends = [t for t in (self.ended_at, self.ends_at) if t is not None]
        return min(ends) if ends else None

    def to_json(self) -> str:
        """The stored form."""
        return orjson.dumps({k: getattr(self, k) for k in STORED}).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Silence:
        """Back from `to_json`."""
        return cls(**{k: v for k, v in orjson.loads(text).items() if k in STORED})

    def view(self, now: float) -> dict[str, Any]:
        """What the API and CLI show: RFC 3339 times, and whether it is active now."""
        return {"id": self.id, "match": self.match, "starts_at": rfc3339(self.starts_at),
                "ends_at": rfc3339(self.ends_at), "until_resolved": bool(self.issue_id),
                "ended_at": rfc3339(self.ended_at), "ended_why": self.ended_why, "active": self.active(now),
                "reason": self.reason, "created_by": self.created_by, "created_at": rfc3339(self.created_at)}


STORED = tuple(Silence.__dataclass_fields__)


def rfc3339(t: float | None) -> str | None:
    """Epoch seconds as RFC 3339 in UTC (`2026-11-29T15:00:00Z`), None as None."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 time with an offset (`2026-11-29T18:00:00Z`, `…+01:00`); None if not."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t.timestamp() if t.tzinfo is not None else None


def compile_match(match: Mapping[str, Any], problems: list[str] | None = None) -> Group:
    """The conditions of a silence, compiled by the rules' own compiler; problems as `match.key: message`."""
    found = problems if problems is not None else []

    def report(_line: int, path: Path, message: str) -> None:
        found.append(f"{'.'.join(str(p) for p in path)}: {message}")

    try:  # JSON is YAML: the same typed, line-aware values the rules file gives the compiler
        tree = parse_yaml(orjson.dumps(match).decode())
    except (YamlSyntaxError, TypeError) as exc:
        found.append(f"match: {exc}")
        return Group("all", ())
    group = Compiler(report).block(tree, ("match",), 1)
    if problems is None and found:
        raise SilenceError(found)
    return group or Group("all", ())


def new_silence(spec: Any, now: float, silence_id: str) -> Silence:
    """A silence from an API body or CLI options; raise SilenceError naming every bad key path."""
    if not isinstance(spec, Mapping):
        raise SilenceError(["expected a JSON object with match and duration or ends_at"])
    errors = [f"{k}: unknown key (expected one of {', '.join(KEYS)})" for k in spec if k not in KEYS]
    match = spec.get("match")
    if not isinstance(match, Mapping) or not match:
        errors.append("match: " + ("missing" if "match" not in spec else "expected a non-empty object")
                      + ' (conditions as in a rule\'s match, e.g. {"issue_id": "123"})')
    else:
        compile_match(match, errors)
    starts = now if spec.get("starts_at") is None else parse_time(spec.get("starts_at"))
    if starts is None:
        errors.append("starts_at: expected an RFC 3339 time with an offset, like 2026-11-29T18:00:00Z")
    ends, issue = _end(spec, starts or now, errors)
    texts: dict[str, Any] = {k: spec.get(k, "") or "" for k in ("reason", "created_by")}
    errors += [f"{k}: expected text of at most {MAX_TEXT} characters" for k, v in texts.items()
               if not isinstance(v, str) or len(v) > MAX_TEXT]
    if errors:
        raise SilenceError(errors)
    assert isinstance(match, Mapping)  # no error above means match is a non-empty mapping
    return Silence(id=silence_id, match=dict(match), starts_at=starts or now, ends_at=ends, created_at=now,
                   issue_id=issue, **texts)


def _end(spec: Mapping[str, Any], starts: float, errors: list[str]) -> tuple[float | None, str]:
    """The end: `duration` or `ends_at`, or `until_resolved` for one issue (either may cap it)."""
    given = [k for k in ("duration", "ends_at") if spec.get(k) is not None]
    until = spec.get("until_resolved", False)
    issue = ""
    if not isinstance(until, bool):
        errors.append("until_resolved: expected true or false")
    elif until:
        value = spec["match"].get("issue_id") if isinstance(spec.get("match"), Mapping) else None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            issue = str(value).strip()
        else:
            errors.append('until_resolved: needs match.issue_id, one issue id (e.g. {"issue_id": "123"})')
    if len(given) > 1:
        errors.append("ends_at: give duration or ends_at, not both")
        return None, issue
    if not given:
        if not until:
            errors.append('duration: missing: a silence needs an end (duration like "2h", ends_at as RFC 3339, '
                          "or until_resolved: true for one issue)")
        return None, issue
    if given[0] == "duration":
        seconds = parse_duration(spec["duration"])
        if not seconds:
            errors.append(f"duration: expected a duration like 30m, 2h, 1d, got {_shown(spec['duration'])}")
            return None, issue
        return starts + seconds, issue
    ends = parse_time(spec["ends_at"])
    if ends is None:
        errors.append(f"ends_at: expected an RFC 3339 time with an offset, like 2026-11-29T18:00:00Z, "
                      f"got {_shown(spec['ends_at'])}")
    elif ends <= starts:
        errors.append(f"ends_at: {rfc3339(ends)} is not after the start, {rfc3339(starts)}")
        return None, issue
    return ends, issue


def _shown(value: Any) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= 60 else text[:57] + "..."

