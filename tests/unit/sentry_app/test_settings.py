"""Routing by what the user picked in Sentry's alert-rule editor: the `settings.<name>` shortcut and
`notify: [{setting: NAME}]` (DESIGN 3.5), with payloads shaped as the example app's mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.rules.load import RulesError, load_rules_text
from router.rules.match import match, unresolved_reason
from router.rules.model import UNRESOLVED
from router.sentry import MISSING, lookup
from router.sentry.app import action_settings
from tests.support.sentry_app import SETTING_RULES, issue_alert, metric_alert

BOTH = {"critical": {"target": "oncall", "title": "crit"}, "warning": {"target": "backend-mail", "title": "warn"}}


@pytest.mark.parametrize("event, expected", [
    (issue_alert({"target": "oncall", "userId": 1}), {"target": "oncall", "userId": 1}),
    (issue_alert(None), {}),
    (metric_alert("critical", BOTH), {"target": "oncall", "title": "crit"}),
    (metric_alert("warning", BOTH), {"target": "backend-mail", "title": "warn"}),
    (metric_alert("resolved", BOTH), {"target": "oncall", "title": "crit"}),
    (metric_alert("resolved", {"warning": {"target": "backend-mail"}}), {"target": "backend-mail"}),
    (metric_alert("critical", BOTH, owner="another-installation"), {}),
    (metric_alert("critical", {"warning": {"target": "oncall"}}), {}),
], ids=["issue-alert", "issue-alert-without-action", "metric-critical", "metric-warning", "metric-resolved",
        "metric-resolved-warning-only", "other-installation", "no-trigger-for-action"])
def test_action_settings_per_alert_kind(event, expected) -> None:
    """Issue alerts read data.issue_alert.settings; metric alerts the trigger named by the action and only this
    installation's action on it (a resolve: the critical trigger, else the warning one)."""
    assert action_settings(event) == expected
    assert lookup(event, "settings.target") is expected.get("target", MISSING) or \
        lookup(event, "settings.target") == expected["target"]


def _rules(text: str = SETTING_RULES):
    return load_rules_text(text, "rules.yaml", {})


def test_settings_shortcut_is_a_condition() -> None:
    """`settings.target: oncall` holds only for webhooks whose chosen setting says oncall."""
    rules = _rules(SETTING_RULES.replace("    match:\n      resource: [event_alert, metric_alert]\n",
                                         "    match:\n      settings.target: oncall\n"))
    assert match(rules, issue_alert({"target": "oncall"})).matched == ("by-choice",)
    assert match(rules, issue_alert({"target": "backend-mail"})).matched == ()
    assert match(rules, issue_alert(None)).matched == ()


@pytest.mark.parametrize("event, target", [
    (issue_alert({"target": "oncall"}), "oncall"),
    (metric_alert("warning", BOTH), "backend-mail"),
    (metric_alert("critical", BOTH), "oncall"),
    (issue_alert({"target": "audit"}), "audit"),     # declared, though not offered: still only a declared target
])
def test_notify_setting_sends_to_the_declared_target_it_names(event, target: str) -> None:
    """`notify: [{setting: target}]` resolves to the declared target of that name, issue and metric alerts alike."""
    notes = match(_rules(), event).notifications
    assert [(n.target.name, n.target.type) for n in notes] == [(target, "console")]


@pytest.mark.parametrize("values, says", [
    ({"target": "https://evil.example/hook"}, 'names "https://evil.example/hook", which is not a target in the rules '
                                              "(declared: audit, backend-mail, oncall)"),
    ({"target": "#random"}, 'names "#random", which is not a target'),
    ({"target": ["oncall"]}, "which is not a target"),
    ({"title": "no target chosen"}, 'carries no alert-rule action setting "target"'),
    (None, 'carries no alert-rule action setting "target"'),
])
def test_a_setting_naming_no_declared_target_is_unresolved(values, says: str) -> None:
    """Anything but a declared target's name becomes one UNRESOLVED notification saying why: never a URL or channel."""
    (note,) = match(_rules(), issue_alert(values)).notifications
    assert note.target.type == UNRESOLVED and note.target.name == "setting:target"
    assert says in unresolved_reason(_rules().targets, issue_alert(values), note.target.name)


def test_a_target_reached_by_name_and_by_setting_gets_one_notification() -> None:
    """A target named by one rule and chosen by another's setting is notified once (the first rule's)."""
    text = SETTING_RULES + "  - name: named\n    match: {}\n    notify: [oncall, {setting: target}]\n"
    notes = match(_rules(text), issue_alert({"target": "oncall"})).notifications
    assert [(n.rule.name, n.target.name) for n in notes] == [("by-choice", "oncall")]


@pytest.mark.parametrize("notify, expected", [
    ("[{setting: 12}]", "rules.yaml:16: rule \"by-choice\": notify: expected a target name or {setting: NAME}"),
    ("[{settings: target}]", "rules.yaml:16: rule \"by-choice\": notify: expected a target name or {setting: NAME}"),
    ("[{setting: target, to: x}]", "notify: expected a target name or {setting: NAME}"),
])
def test_bad_setting_items_are_load_errors(notify: str, expected: str) -> None:
    """A malformed `{setting: …}` item is a load error naming the file, line, rule and key path."""
    with pytest.raises(RulesError) as err:
        _rules(SETTING_RULES.replace("notify: [{setting: target}]", f"notify: {notify}"))
    assert any(expected in e for e in err.value.errors), err.value.errors


def test_notify_setting_without_a_selectable_target_is_an_error() -> None:
    """With no target marked selectable, nobody can pick one in Sentry: `check` says so."""
    with pytest.raises(RulesError) as err:
        _rules(SETTING_RULES.replace("    selectable: true\n", ""))
    assert err.value.errors == ['rules.yaml:14: rule "by-choice": notify: {setting: target}: no target has '
                                "selectable: true, so nobody can pick one in Sentry's alert-rule editor "
                                "(mark the targets users may choose)"]


@pytest.mark.parametrize("key, says", [
    ("settings", "expected settings.<name>"), ("settings.a.b", "expected settings.<name>"),
])
def test_settings_path_needs_one_name(key: str, says: str) -> None:
    """`settings` alone or nested deeper is refused at load."""
    with pytest.raises(RulesError) as err:
        _rules(SETTING_RULES.replace("resource: [event_alert, metric_alert]", f"{key}: x"))
    assert says in str(err.value)


@pytest.mark.parametrize("spec, says", [
    ("selectable: yes", 'target "oncall": selectable: expected true or false, got "yes"'),
    ("selectable: 1", 'target "oncall": selectable: expected true or false, got 1'),
    ('label: ""', 'target "oncall": label: expected text'),
])
def test_bad_selectable_and_label_are_load_errors(spec: str, says: str) -> None:
    """`selectable` is a boolean and `label` text, or the file is refused."""
    text = SETTING_RULES.replace('    selectable: true\n    label: "On-call (#oncall)"\n', f"    {spec}\n", 1)
    with pytest.raises(RulesError) as err:
        _rules(text.replace("notify: [{setting: target}]", "notify: [audit]"))
    assert any(says in e for e in err.value.errors), err.value.errors


@pytest.mark.slow
def test_check_accepts_a_rules_file_routing_by_setting(tmp_path: Path) -> None:
    """`sentry-router check` passes a valid file that uses {setting: …} and selectable targets."""
    from click.testing import CliRunner

    from router.cli import main

    path = tmp_path / "rules.yaml"
    path.write_text(SETTING_RULES)
    result = CliRunner().invoke(main, ["check", str(path), "--templates", str(tmp_path)])
    assert result.exit_code == 0, result.output
