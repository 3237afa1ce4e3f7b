"""Warnings for rules that load but can never match what Sentry sends today (a typo like `resource: isue`)."""

from __future__ import annotations

from router.rules.match import ANY, pinned
from router.rules.model import Rule, RuleSet
from router.sentry import KNOWN_ACTIONS


def warnings(ruleset: RuleSet) -> list[str]:
    """One `FILE:LINE: rule "NAME": match.KEY: …` line per pinned resource or action Sentry never sends."""
    found: list[str] = []
    for rule in ruleset.rules:
        found.extend(f"{ruleset.source}:{rule.line}: rule \"{rule.name}\": {message}" for message in _rule(rule))
    return found


def _rule(rule: Rule) -> list[str]:
    resources = [r for r in pinned(rule, "resource") if r != ANY]
    actions = [a for a in pinned(rule, "action") if a != ANY]
    messages = [f"match.resource: \"{r}\" is not a resource Sentry sends (known: {', '.join(KNOWN_ACTIONS)}); "
                "this rule only matches if Sentry adds it" for r in resources if r not in KNOWN_ACTIONS]
    known = [r for r in resources if r in KNOWN_ACTIONS] or ([] if resources else list(KNOWN_ACTIONS))
    possible = {a for r in known for a in KNOWN_ACTIONS[r]}
    for action in actions:
        if known and action not in possible:
            where = f" for {', '.join(known)}" if resources else ""
            messages.append(f"match.action: \"{action}\" is not an action Sentry sends{where} "
                            f"(known: {', '.join(sorted(possible))}); this rule only matches if Sentry adds it")
    return messages
