"""Matching against the real fixtures: every operator and combinator, order, stop, targets, index, explanations."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import pytest

from router.rules.load import load_rules, load_rules_text
from router.rules.match import explain, format_explanations, match
from router.rules.model import RuleSet
from router.sentry import SentryEvent, build
from tests.conftest import EXAMPLE_RULES

FIXTURES = Path(__file__).parents[2] / "fixtures"
REPO = Path(__file__).parents[3]
ALL = sorted(p.name[:-5] for p in FIXTURES.glob("*.json"))


@cache
def event(name: str) -> SentryEvent:
    """The fixture NAME as a parsed event (the resource is the file name's first part)."""
    return build(name.split(".")[0], json.loads((FIXTURES / f"{name}.json").read_text("utf-8")))


def one_rule(condition: str) -> RuleSet:
    """A ruleset with one rule `r` whose match is the given flow mapping."""
    return load_rules_text(f"version: 1\ntargets: {{log: {{type: console}}}}\nrules:\n"
                           f"  - name: r\n    match: {condition}\n    notify: log\n", "t.yaml", {})


CASES = [
    # eq (scalars), ids compared as text
    ("issue.created", "{resource: issue}", True),
    ("issue.created", "{action: resolved}", False),
    ("issue.created", "{issue_id: 1234567890}", True),              # rule int, payload text
    ("comment.created", "{data.issue_id: '100'}", True),            # rule text, payload int
    ("comment.created", "{actor.id: 1}", True),
    ("issue.created", "{data.issue.project.id: 112313123123134}", True),
    ("issue.created", "{data.issue.isUnhandled: false}", True),
    ("issue.created", "{data.issue.assignedTo: null}", True),
    ("issue.created", "{project: Python}", False),                  # case-sensitive
    ("issue.created", "{data.issue: issue}", False),                # a mapping equals no scalar
    # a list is any of; in
    ("issue.created", "{action: [resolved, created]}", True),
    ("issue.created", "{action: [resolved, assigned]}", False),
    ("issue.created", "{action: {in: [created]}}", True),
    ("issue.created", "{action: {eq: created}}", True),
    # not: a value, a list, an operator mapping; a missing path
    ("issue.created", "{actor.type: {not: user}}", True),
    ("issue.created", "{level: {not: [error, fatal]}}", False),
    ("issue.created", "{project: {not: {regex: 'py.*'}}}", False),
    ("issue.created", "{environment: {not: prod}}", True),
    ("comment.created", "{level: {not: {exists: false}}}", False),
    # regex (full match), glob, contains
    ("issue.created", "{project: {regex: 'py.*'}}", True),
    ("issue.created", "{project: {regex: py}}", False),
    ("issue.created", "{project: {regex: [java, 'pyth.n']}}", True),
    ("issue.created", "{data.issue.count: {regex: '[0-9]+'}}", True),
    ("issue.created", "{title: {glob: 'Error generated*'}}", True),
    ("issue.created", "{project: {glob: py}}", False),
    ("error.created", "{culprit: {glob: '?(runner)'}}", True),
    ("issue.created", "{title: {contains: 'Priority: HIGH'}}", True),
    ("issue.created", "{title: {contains: 'Priority: LOW'}}", False),
    ("metric_alert.resolved", "{data.metric_alert.projects: {contains: bar}}", True),
    ("metric_alert.resolved", "{data.metric_alert.projects: {contains: ba}}", False),
    ("error.created", "{tags: {contains: browser.name}}", True),
    # exists (null counts as absent)
    ("issue.created", "{data.issue.assignedTo: {exists: false}}", True),
    ("issue.created", "{url: {exists: true}}", True),
    ("issue.assigned", "{url: {exists: true}}", False),
    ("error.created", "{tags.os: {exists: true}}", True),
    # gt gte lt lte: numbers and numeric text
    ("issue.created", "{data.issue.count: {gt: 2}}", True),          # count is the text "3"
    ("issue.created", "{data.issue.count: {gte: 4}}", False),
    ("issue.created", "{data.issue.userCount: {lt: 4}}", True),
    ("issue.created", "{data.issue.userCount: {lte: 2}}", False),
    ("issue.created", "{data.issue.userCount: {gt: 1, lt: 4}}", True),
    ("issue.created", "{title: {gt: 1}}", False),                    # not a number
    # level ordering; metric_alert level follows the action
    ("issue.created", "{level: {gte: error}}", True),
    ("issue.created", "{level: {lt: error}}", False),
    ("error.created", "{level: error}", True),
    ("metric_alert.warning", "{level: {gte: warning}}", True),
    ("metric_alert.warning", "{level: {gt: warning}}", False),
    ("metric_alert.critical", "{level: fatal}", True),
    ("metric_alert.resolved", "{level: {lte: info}}", True),
    ("comment.created", "{level: {gte: debug}}", False),              # no level at all
    # dotted paths with list indices; shortcuts; missing paths
    ("error.created", "{data.error.exception.values.0.mechanism.type: onerror}", True),
    ("error.created", "{data.error.exception.values.-1.mechanism.type: onerror}", True),
    ("error.created", "{data.error.exception.values.5.type: {exists: true}}", False),
    ("error.created", "{tags.browser.name: Chrome}", True),
    ("event_alert.triggered", "{triggered_rule: {regex: 'Very Important.*'}}", True),
    ("metric_alert.resolved", "{project: bar, url: {contains: /alerts/1/}}", True),
    ("issue.assigned", "{assignee: Person}", True),
    ("installation.created", "{installation.uuid: {exists: true}}", True),
    ("seer.pr_created", "{issue_id: '1170820242'}", True),
    ("issue.created", "{data.nope: x}", False),
    ("issue.created", "{data.nope: {exists: false}}", True),
    ("issue.created", "{data.nope: {not: x}}", True),
    # combinators
    ("issue.created", "{any: [{action: resolved}, {project: python}]}", True),
    ("issue.created", "{any: [{action: resolved}, {project: x}]}", False),
    ("issue.created", "{all: [{resource: issue}, {level: fatal}]}", True),
    ("issue.created", "{all: [{resource: issue}, {level: error}]}", False),
    ("issue.created", "{not: {actor.type: user}}", True),
    ("issue.created", "{not: {resource: issue, action: created}}", False),
    ("issue.created", "{not: {resource: issue, action: resolved}}", True),   # not (all of)
    ("comment.created", "{any: [{all: [{resource: comment}, {actor.type: user}]}, {level: fatal}]}", True),
    ("comment.created", "{resource: comment, not: {any: [{actor.type: application}, {data.comment: {contains: wip}}]}}",
     True),
    ("issue.created", "{}", True),
]


@pytest.mark.parametrize(("fixture", "condition", "expected"), CASES, ids=[f"{f}:{c}" for f, c, _ in CASES])
def test_operator_and_combinator_table(fixture: str, condition: str, expected: bool) -> None:
    """Each condition holds (or not) on the real fixture exactly as DESIGN 1.4 says."""
    rs = one_rule(condition)
    assert (match(rs, event(fixture)).matched == ("r",)) is expected
    assert explain(rs, event(fixture))[0].matched is expected    # explain agrees with match


ORDER_RULES = """\
version: 1
targets: {a: {type: console}, b: {type: console}, c: {type: console}}
rules:
  - {name: first, match: {resource: issue}, notify: [a, b]}
  - {name: errors-only, match: {resource: error}, notify: [c]}
  - {name: second, match: {resource: issue}, notify: [b, c]}
  - {name: stopper, match: {action: created}, stop: true}
  - {name: after-stop, match: {}, notify: [a]}
"""


def test_order_stop_and_one_notification_per_target() -> None:
    """Matching rules notify top to bottom until a stop rule; a target reached twice gets the first rule's."""
    result = match(load_rules_text(ORDER_RULES, "t.yaml", {}), event("issue.created"))
    assert result.matched == ("first", "second", "stopper")
    assert [(n.rule.name, n.target.name) for n in result.notifications] == [("first", "a"), ("first", "b"),
                                                                            ("second", "c")]


def test_stop_rule_that_does_not_match_does_not_stop() -> None:
    """A stop rule ends evaluation only when it matches."""
    result = match(load_rules_text(ORDER_RULES, "t.yaml", {}), event("issue.resolved"))
    assert result.matched == ("first", "second", "after-stop")


def test_index_gives_the_same_answer_as_scanning_every_rule() -> None:
    """For every fixture and the shipped example (plus the order rules), the index changes nothing but speed."""
    for rs in (load_rules(str(EXAMPLE_RULES), {}), load_rules_text(ORDER_RULES, "t.yaml", {})):
        unindexed = dataclasses.replace(rs, index=None)
        for name in ALL:
            assert match(rs, event(name)) == match(unindexed, event(name)), name


def test_index_skips_rules_pinned_to_other_resources() -> None:
    """Rules pinned to another resource/action are not candidates; unpinned ones always are, in order."""
    rs = load_rules_text(ORDER_RULES, "t.yaml", {})
    assert rs.index.candidates("issue", "created") == (0, 2, 3, 4)
    assert rs.index.candidates("comment", "created") == (3, 4)
    assert rs.index.candidates("brand_new_resource", "created") == (3, 4)
    assert rs.index.candidates("brand_new_resource", "x") == (4,)


def test_every_fixture_reaches_the_console_with_the_shipped_rules() -> None:
    """The example rules.yaml routes every bundled fixture to the `log` console target."""
    rs = load_rules(str(EXAMPLE_RULES), {})
    for name in ALL:
        assert [n.target.name for n in match(rs, event(name)).notifications] == ["log"], name


def test_matching_is_pure() -> None:
    """Matching the same event twice gives equal results and leaves the ruleset unchanged."""
    rs = load_rules(str(EXAMPLE_RULES), {})
    before = [r for r in rs.rules]
    assert match(rs, event("error.created")) == match(rs, event("error.created"))
    assert list(rs.rules) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        rs.rules[0].name = "x"


def test_explain_shows_each_condition_its_value_and_result() -> None:
    """explain names each condition's expected value, the actual value (or missing) and whether it held."""
    rs = one_rule("{resource: issue, level: {gte: error}, project: {regex: 'api|worker'}, environment: prod}")
    (ex,) = explain(rs, event("issue.created"))
    rows = [(c.label, c.actual, c.held) for c in ex.result.children]
    assert rows == [('resource eq "issue"', '"issue"', True), ('level gte "error"', '"fatal"', True),
                    ('project regex "api|worker"', '"python"', False), ('environment eq "prod"', "missing", False)]
    text = format_explanations([ex])
    assert '✗ rule "r" (line 4): did not match' in text
    assert '    ✗ project regex "api|worker"  (actual: "python")' in text


def test_explain_marks_rules_after_a_stop_as_not_evaluated() -> None:
    """Rules after a matching stop rule are shown as not evaluated, naming the stop rule."""
    text = format_explanations(explain(load_rules_text(ORDER_RULES, "t.yaml", {}), event("issue.created")))
    assert '✓ rule "stopper" (line 7): matched (stop)' in text
    assert '· rule "after-stop" (line 8): not evaluated: rule "stopper" stopped evaluation' in text


def test_explain_nests_combinators() -> None:
    """Combinators appear as nodes with their children indented below them."""
    rs = one_rule("{any: [{action: resolved}, {not: {actor.type: user}}]}")
    text = format_explanations(explain(rs, event("issue.created")))
    assert text.splitlines()[1:] == [
        "    ✓ any of",
        '        ✗ action eq "resolved"  (actual: "created")',
        "        ✓ not",
        '            ✗ actor.type eq "user"  (actual: "application")',
    ]


PATHS = ["resource", "action", "request_id", "actor", "actor.id", "actor.type", "installation.uuid", "data",
         "data.issue.id", "data.issue.project.slug", "data.error.exception.values.0.type",
         "data.error.exception.values.-1.mechanism.type", "data.error.exception.values.9.type",
         "data.error.tags.0.1", "data.metric_alert.projects.0", "data.nope.deeper", "project", "level",
         "environment", "title", "issue_id", "short_id", "culprit", "release", "url", "assignee",
         "triggered_rule", "tags", "tags.browser.name", "tags.os", "tags.nope"]


def test_compiled_getters_read_exactly_what_lookup_reads() -> None:
    """The matcher's pre-split path readers agree with sentry.lookup on every fixture and path."""
    from router.rules.conditions import getter
    from router.sentry import lookup

    for name in ALL:
        for path in PATHS:
            assert getter(path)(event(name)) == lookup(event(name), path) or \
                getter(path)(event(name)) is lookup(event(name), path), (name, path)


@pytest.mark.parametrize("pin, action, expected", [
    ("null", "None", False),        # null is not the text "None"
    ("1.10", "1.10", True),         # a number keeps its spelling
    ("[created, 7]", "7", True),
    ("created", "created", True),
])
def test_index_agrees_with_the_condition_for_non_text_pins(pin: str, action: str, expected: bool) -> None:
    """A rule pinning `action` to null or a number matches exactly when its condition holds (the index never
    decides)."""
    from router.rules.load import load_rules_text
    from router.rules.match import match
    from router.sentry import build

    rules = load_rules_text(f"version: 1\ntargets:\n  log: {{type: console}}\nrules:\n  - name: r\n"
                            f"    match: {{action: {pin}}}\n    notify: [log]\n", "r.yaml")
    event = build("issue", {"action": action, "data": {}})
    assert (match(rules, event).matched == ("r",)) is expected
