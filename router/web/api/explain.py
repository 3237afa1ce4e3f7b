"""Why a webhook routed as it did, as JSON: every rule, every condition (path, expected, actual, held)."""

from __future__ import annotations

from typing import Any

from router.rules.conditions import Check, Group, plain, show_actual
from router.rules.match import explain
from router.rules.model import RuleSet
from router.sentry import SentryEvent


def condition_json(node: Any, event: SentryEvent) -> dict[str, Any]:
    """One condition (or group of them) evaluated against `event`, without short-circuit."""
    if isinstance(node, Check):
        actual = node.get(event)
        return {"path": node.path, "op": node.op, "expected": _jsonable(node.expected),
                "actual": show_actual(actual), "held": bool(node.test(actual))}
    kids = [condition_json(c, event) for c in node.children]
    helds = [k["held"] for k in kids]
    held = all(helds) if node.kind == "all" else any(helds) if node.kind == "any" else not all(helds)
    return {"group": node.kind, "held": held, "conditions": kids}


def _jsonable(value: Any) -> Any:
    try:
        return plain(value)
    except (TypeError, ValueError):
        return str(value)


def explain_json(ruleset: RuleSet, event: SentryEvent) -> list[dict[str, Any]]:
    """One entry per rule in file order: rule, line, matched, why it was skipped, and its conditions."""
    out = []
    for ex in explain(ruleset, event):
        rule = ex.rule
        conditions: list[dict[str, Any]] = []
        if ex.result is not None and isinstance(rule.match, Group):
            top = condition_json(rule.match, event)
            conditions = top["conditions"] if rule.match.kind == "all" else [top]
        out.append({"rule": rule.name, "line": rule.line, "matched": ex.matched, "skipped": ex.skipped or None,
                    "notify": list(rule.notify), "stop": rule.stop, "conditions": conditions})
    return out
