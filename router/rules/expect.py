"""Routing tests as code: `sentry-router test --expect CASES.yaml` (what `amtool config routes test` is to
Alertmanager).

    cases:
      - name: new backend errors page oncall      # optional; shown in the report
        payload: issue.created                    # a bundled sample name, or a JSON file (relative to CASES.yaml)
        resource: issue                           # optional: else from the sample or the file name
        set: {data.issue.project.slug: api}       # optional: payload fields to change, by dotted path
        rules: [new-backend-errors]               # each must match
        targets: [oncall]                         # each must be notified
        not_rules: [mute-bots]                    # none may match
        not_targets: [backend-mail]               # none may be notified
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.rules.conditions import plain
from router.rules.match import match
from router.rules.model import MatchResult, RuleSet
from router.rules.yamlio import LList, LMap, YamlSyntaxError, parse_yaml
from router.sentry import BadPayload, build
from router.sentry.payloads import PathError, load_sample, sample_names, set_path

LISTS = ("rules", "targets", "not_rules", "not_targets")
KEYS = ("name", "payload", "resource", "set", *LISTS)


class CasesError(ValueError):
    """The cases file cannot be used; `errors` are `FILE:LINE: what is wrong` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Case:
    """One routing expectation: a payload, and the rules and targets it must and must not reach."""

    name: str
    line: int
    resource: str
    payload: dict[str, Any]
    expect: dict[str, tuple[str, ...]] = field(default_factory=dict)   # LISTS key -> names


@dataclass(frozen=True)
class Outcome:
    """A case run against the rules: what matched, and each way it differs from the expectation."""

    case: Case
    result: MatchResult
    differences: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when nothing differs."""
        return not self.differences


def load_cases(path: str) -> list[Case]:
    """Parse and check a cases file; CasesError listing every problem with its line."""
    try:
        root = parse_yaml(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise CasesError([f"{path}:0: cannot read: {exc.strerror}"]) from None
    except YamlSyntaxError as exc:
        raise CasesError([f"{path}:{exc.line}: {exc}"]) from None
    items = root.get("cases") if isinstance(root, LMap) else None
    if not isinstance(items, LList) or not items:
        raise CasesError([f"{path}:{getattr(root, 'line', 1)}: expected `cases:`, a list of cases"])
    cases, errors = [], []
    for i, (item, line) in enumerate(zip(items, items.item_lines, strict=False)):
        try:
            cases.append(_case(item, line, i, Path(path).parent))
        except ValueError as exc:
            errors.append(f"{path}:{line}: case {i + 1}: {exc}")
    if errors:
        raise CasesError(errors)
    return cases


def _case(item: Any, line: int, index: int, folder: Path) -> Case:
    if not isinstance(item, LMap):
        raise ValueError("expected a mapping with `payload:` and what it must reach (rules, targets, not_rules, …)")
    unknown = [str(k) for k in item if k not in KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected one of {', '.join(KEYS)})")
    if not item.get("payload"):
        raise ValueError("`payload:` is required: a bundled sample name (issue.created) or a JSON file")
    if not any(k in item for k in LISTS):
        raise ValueError(f"nothing to check: give at least one of {', '.join(LISTS)}")
    resource, payload = _payload(str(item["payload"]), folder, item.get("resource"))
    for key, value in (item.get("set") or {}).items():
        try:
            set_path(payload, str(key), plain(value))
        except PathError as exc:
            raise ValueError(f"set: {exc}") from None
    expect = {k: _names(item[k], k) for k in LISTS if k in item}
    return Case(str(item.get("name") or f"case {index + 1}"), line, resource, payload, expect)


def _payload(ref: str, folder: Path, resource: Any) -> tuple[str, dict[str, Any]]:
    if ref in sample_names():
        found, payload = load_sample(ref)
        return str(resource or found), payload
    file = folder / ref
    try:
        payload = json.loads(file.read_text("utf-8"))
    except OSError:
        raise ValueError(f"payload {ref!r} is neither a bundled sample nor a file ({file} not found)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"payload {file}: not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"payload {file}: a webhook body is a JSON object")
    resource = resource or file.name.split(".")[0]
    return str(resource), payload


def _names(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{key}: expected a name or a list of names")
    return tuple(items)


def run_case(ruleset: RuleSet, case: Case) -> Outcome:
    """Match the case's payload and compare what it reached with what it must and must not reach."""
    try:
        result = match(ruleset, build(case.resource, case.payload))
    except BadPayload as exc:
        return Outcome(case, MatchResult((), ()), (f"the payload cannot be parsed: {exc}",))
    matched = set(result.matched)
    notified = {n.target.name: n.rule.name for n in result.notifications}
    diff = [f"- rule {r}: must match, did not" for r in case.expect.get("rules", ()) if r not in matched]
    diff += [f"- target {t}: must be notified, was not" for t in case.expect.get("targets", ()) if t not in notified]
    diff += [f"+ rule {r}: must not match, did" for r in case.expect.get("not_rules", ()) if r in matched]
    diff += [f"+ target {t}: must not be notified, was (rule {notified[t]})"
             for t in case.expect.get("not_targets", ()) if t in notified]
    rule_names = {r.name for r in ruleset.rules}
    unknown = [f"? {key}: {name!r} is not a {'target' if key.endswith('targets') else 'rule'} in {ruleset.source}"
               for key in LISTS for name in case.expect.get(key, ())
               if name not in (ruleset.targets if key.endswith("targets") else rule_names)]
    return Outcome(case, result, tuple(unknown + diff))


def report(path: str, outcomes: list[Outcome]) -> list[str]:
    """The readable report: ✓ or ✗ per case, each difference, and what actually matched."""
    lines = []
    for o in outcomes:
        head = f"{path}:{o.case.line}: {o.case.name} ({o.case.resource}.{o.case.payload.get('action', '?')})"
        if o.passed:
            lines.append(f"✓ {head}")
            continue
        reached = ", ".join(f"{n.rule.name} → {n.target.name}" for n in o.result.notifications) or "nobody"
        lines += [f"✗ {head}", *(f"    {d}" for d in o.differences),
                  f"    matched: {', '.join(o.result.matched) or 'no rule'}; notified: {reached}"]
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes)} case{'s' if len(outcomes) != 1 else ''}: {len(outcomes) - failed} passed, "
                 f"{failed} failed")
    return lines
