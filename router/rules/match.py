"""Matching: a pure function of (compiled rules, event), plus explanations of every condition.

Rules are indexed by the (resource, action) they pin with plain equality or a list, so a webhook
only evaluates its candidate rules; file order is preserved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from router.masking import one_line
from router.rules.conditions import Check, CondResult, Group
from router.rules.model import UNRESOLVED, MatchResult, Notification, Rule, RuleSet, Target
from router.sentry import SentryEvent
from router.sentry.app import action_settings

ANY = "*"
_CACHE_LIMIT = 4096   # (resource, action) pairs remembered; resources are attacker-chosen text


Test = Callable[[SentryEvent], bool]


@dataclass(frozen=True)
class RuleIndex:
    """Rule positions by pinned (resource, action); `*` where a rule does not pin one.

    `tests[i]` is rule i's condition as one closure, without the resource/action conditions the
    index already guarantees for its candidates.
    """

    buckets: MappingProxyType[tuple[str, str], tuple[int, ...]]
    tests: tuple[Test, ...]
    cache: dict[tuple[str, str], tuple[int, ...]]   # memo of candidates(); rules never change after load

    def candidates(self, resource: str, action: str) -> tuple[int, ...]:
        """Positions of the rules that may match this resource and action, in file order."""
        key = (resource, action)
        found = self.cache.get(key)
        if found is None:
            b = self.buckets
            found = tuple(sorted({*b.get(key, ()), *b.get((resource, ANY), ()),
                                  *b.get((ANY, action), ()), *b.get((ANY, ANY), ())}))
            if len(self.cache) < _CACHE_LIMIT:
                self.cache[key] = found
        return found


def _pin(match: Any, field: str) -> Check | None:
    """The rule's top-level `field: value` / `field: [values]` condition, if it has one."""
    checks = match.children if isinstance(match, Group) and match.kind == "all" else ()
    for check in checks:
        if isinstance(check, Check) and check.path == field and check.op in ("eq", "in"):
            values = check.expected if isinstance(check.expected, list) else [check.expected]
            # only text is indexed: null and numbers keep their condition, which compares them exactly
            return check if all(isinstance(v, str) for v in values) else None
    return None


def _values(check: Check | None) -> tuple[str, ...]:
    if check is None:
        return (ANY,)
    return tuple(check.expected if isinstance(check.expected, list) else [check.expected])


def pinned(rule: Rule, field: str) -> tuple[str, ...]:
    """The values a rule pins `field` to with plain equality or a list; (ANY,) when it does not."""
    return _values(_pin(rule.match, field))


def closure(node: Any) -> Test:
    """A condition tree as nested closures: the fast path of matching."""
    if isinstance(node, Check):
        test, get = node.test, node.get
        return lambda event: test(get(event))
    kids = tuple(closure(c) for c in node.children)
    if node.kind == "any":
        return lambda event: any(k(event) for k in kids)
    holds_all = _all(kids)
    return holds_all if node.kind == "all" else (lambda event: not holds_all(event))


def _all(kids: tuple[Test, ...]) -> Test:
    if len(kids) == 1:
        return kids[0]

    def holds(event: SentryEvent) -> bool:
        for kid in kids:  # noqa: SIM110 - a plain loop: no generator object per event on the hot path
            if not kid(event):
                return False
        return True
    return holds


def build_index(rules: Iterable[Rule]) -> RuleIndex:
    """Index rules by the resources and actions they pin, and compile each rule's remaining conditions."""
    buckets: dict[tuple[str, str], list[int]] = {}
    tests: list[Test] = []
    for i, rule in enumerate(rules):
        pins = (_pin(rule.match, "resource"), _pin(rule.match, "action"))
        for resource in _values(pins[0]):
            for action in _values(pins[1]):
                buckets.setdefault((resource, action), []).append(i)
        rest = [c for c in rule.match.children if c not in pins] if isinstance(rule.match, Group) else []
        tests.append(closure(Group("all", tuple(rest))) if rule.match is not None else (lambda event: False))
    return RuleIndex(MappingProxyType({k: tuple(v) for k, v in buckets.items()}), tuple(tests), {})


def _matching(ruleset: RuleSet, event: SentryEvent) -> Iterator[Rule]:
    """The rules that match, in order (all of them; the caller stops at a stop rule)."""
    index, rules = ruleset.index, ruleset.rules
    if index is None:
        yield from (rule for rule in rules if rule.match is not None and rule.match.holds(event))
        return
    tests = index.tests
    for i in index.candidates(event.resource, event.action):
        if tests[i](event):
            yield rules[i]


def match(ruleset: RuleSet, event: SentryEvent) -> MatchResult:
    """The rules that match `event`, top to bottom until a stop rule; one notification per target."""
    matched: list[str] = []
    notifications: dict[str, Notification] = {}
    for rule in _matching(ruleset, event):
        matched.append(rule.name)
        for name in rule.notify:
            if name not in notifications and name in ruleset.targets:
                notifications[name] = Notification(rule=rule, target=ruleset.targets[name])
        for setting in rule.notify_settings:
            target = chosen_target(ruleset, event, setting)
            if target.name not in notifications:
                notifications[target.name] = Notification(rule=rule, target=target)
        if rule.stop:
            break
    return MatchResult(matched=tuple(matched), notifications=tuple(notifications.values()),
                       rules=ruleset.digest[:12])


def chosen_target(ruleset: RuleSet, event: SentryEvent, setting: str) -> Target:
    """The declared target the alert-rule action setting `setting` names; else an UNRESOLVED target named
    `setting:NAME` (the worker dead-letters it with `unresolved_reason`: never an address or channel taken from
    the payload)."""
    value = action_settings(event).get(setting)
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) in ruleset.targets:
        return ruleset.targets[str(value)]
    return Target(name=f"setting:{setting}", type=UNRESOLVED, options={})


def unresolved_reason(targets: Mapping[str, Target], event: SentryEvent, target_name: str) -> str:
    """Why the notification to UNRESOLVED target `setting:NAME` has nowhere to go, naming the declared targets."""
    setting = target_name.partition(":")[2]
    value = action_settings(event).get(setting)
    if value is None:
        return f'the webhook carries no alert-rule action setting "{setting}" (notify: [{{setting: {setting}}}])'
    declared = ", ".join(sorted(targets)) or "none"
    return (f'alert-rule action setting "{setting}" names "{one_line(str(value))[:80]}", which is not a target '
            f"in the rules (declared: {declared})")


@dataclass(frozen=True)
class RuleExplanation:
    """Why a rule did or did not match one event."""

    rule: Rule
    matched: bool
    result: CondResult | None          # None when the rule was not evaluated
    skipped: str = ""                  # why it was not evaluated ("after stop rule …")


def explain(ruleset: RuleSet, event: SentryEvent) -> list[RuleExplanation]:
    """Every rule, in order, with each condition's expected value, actual value and result."""
    out: list[RuleExplanation] = []
    stopped_by = ""
    for rule in ruleset.rules:
        if stopped_by:
            out.append(RuleExplanation(rule, False, None, f'not evaluated: rule "{stopped_by}" stopped evaluation'))
            continue
        result = rule.match.explain(event) if rule.match is not None else None
        held = bool(result and result.held)
        out.append(RuleExplanation(rule, held, result))
        if held and rule.stop:
            stopped_by = rule.name
    return out


def format_explanations(explanations: list[RuleExplanation]) -> str:
    """Explanations as indented text: ✓ held, ✗ did not, and the actual value of each condition."""
    lines: list[str] = []
    for ex in explanations:
        rule = ex.rule
        mark = "✓" if ex.matched else ("·" if ex.skipped else "✗")
        outcome = "matched" if ex.matched else (ex.skipped or "did not match")
        then = ""
        if ex.matched:
            dests = [*rule.notify, *(f"{{setting: {s}}}" for s in rule.notify_settings)]
            then = (f" → {', '.join(dests)}" if dests else "") + (" (stop)" if rule.stop else "")
        lines.append(f'{mark} rule "{rule.name}" (line {rule.line}): {outcome}{then}')
        if ex.result is not None:
            lines.extend(_format_cond(child, 1) for child in _top(ex.result))
    return "\n".join(lines)


def _top(result: CondResult) -> tuple[CondResult, ...]:
    """A rule's implicit top-level `all` is not shown as a node of its own."""
    if result.label == "all of":
        return result.children or (CondResult("(no conditions: matches everything)", True),)
    return (result,)


def _format_cond(result: CondResult, depth: int) -> str:
    mark = "✓" if result.held else "✗"
    actual = f"  (actual: {result.actual})" if result.actual else ""
    head = f"{'    ' * depth}{mark} {result.label}{actual}"
    return "\n".join([head, *(_format_cond(c, depth + 1) for c in result.children)])
