"""Sentry's UI-component requests: the alert-rule action's validation, the `target` select, the schema
command, and a setting that names no declared target dead-lettered by the worker (DESIGN 3.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from router.sentry.verify import sign
from router.settings import Settings
from tests.conftest import SECRET
from tests.support.sentry_app import SETTING_RULES, UUID, issue_alert, settings_list


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """Rules with two selectable targets and one that is not offered."""
    path = tmp_path / "rules.yaml"
    path.write_text(SETTING_RULES)
    return path


def _action(client, fields, secret: str = SECRET, header: str = "Sentry-App-Signature"):
    body = json.dumps({"fields": fields, "installationId": UUID}).encode()
    headers = {"Content-Type": "application/json", header: sign(body, secret)} if secret else {}
    return client.post("/sentry/alert-rule-action", data=body, headers=headers)


@pytest.mark.parametrize("fields, status, message", [
    (settings_list({"target": "oncall"}), 200, 'sentry-router sends this alert to "oncall"'),
    ({"target": "backend-mail"}, 200, 'sentry-router sends this alert to "backend-mail"'),
    (settings_list({"target": "audit"}), 400,
     'target: "audit" is not a target you can pick (valid choices: backend-mail, oncall)'),
    (settings_list({"target": "https://evil.example/x"}), 400,
     'target: "https://evil.example/x" is not a target you can pick (valid choices: backend-mail, oncall)'),
    (settings_list({"title": "x"}), 400,
     "target: missing: pick where sentry-router sends this alert (valid choices: backend-mail, oncall)"),
    (settings_list({"target": ""}), 400,
     "target: missing: pick where sentry-router sends this alert (valid choices: backend-mail, oncall)"),
    ("not fields", 400, 'body: "fields" is missing or not a list of {"name", "value"}'),
], ids=["valid", "valid-mapping", "not-offered", "url", "missing", "empty", "no-fields"])
def test_alert_rule_action_answers(client, fields, status: int, message: str) -> None:
    """200 for a selectable target; 400 {"message"} naming the wrong value and the valid choices otherwise."""
    resp = _action(client, fields)
    assert (resp.status_code, resp.get_json()) == (status, {"message": message})


@pytest.mark.parametrize("secret, header", [("", ""), ("wrong-secret", "Sentry-App-Signature")])
def test_alert_rule_action_unsigned_is_401(client, secret: str, header: str) -> None:
    """A request without a valid Sentry-App-Signature is refused with 401."""
    assert _action(client, {"target": "oncall"}, secret, header).status_code == 401


def test_alert_rule_action_accepts_the_hook_signature_header(client) -> None:
    """Like the example app, a Sentry-Hook-Signature over the same body is accepted too."""
    assert _action(client, {"target": "oncall"}, SECRET, "Sentry-Hook-Signature").status_code == 200


def test_target_options_list_the_selectable_targets(client) -> None:
    """GET /sentry/options/targets, signed over the empty body: [{label, value}] of selectable targets only."""
    headers = {"Sentry-App-Signature": sign(b"", SECRET)}
    resp = client.get(f"/sentry/options/targets?installationId={UUID}&projectSlug=api", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json() == [{"label": "backend-mail", "value": "backend-mail"},
                               {"label": "On-call (#oncall)", "value": "oncall"}]
    found = client.get("/sentry/options/targets?query=call", headers=headers).get_json()
    assert found == [{"label": "On-call (#oncall)", "value": "oncall"}]


def test_target_options_unsigned_is_401(client) -> None:
    """The select's options need the signature as well."""
    assert client.get("/sentry/options/targets").status_code == 401
    assert client.get("/sentry/options/targets", headers={"Sentry-App-Signature": "0" * 64}).status_code == 401


def test_schema_command_prints_the_alert_rule_action() -> None:
    """`sentry-router sentry-app-schema` prints JSON Sentry accepts: an alert-rule action with the target select."""
    from click.testing import CliRunner

    from router.cli import main

    result = CliRunner().invoke(main, ["sentry-app-schema"])
    assert result.exit_code == 0, result.output
    (element,) = json.loads(result.output)["elements"]
    assert element["type"] == "alert-rule-action"
    assert element["settings"]["uri"] == "/sentry/alert-rule-action"
    assert element["settings"]["required_fields"] == [
        {"type": "select", "label": "Send to", "name": "target", "uri": "/sentry/options/targets"}]


def test_an_unresolved_setting_is_a_dead_letter_saying_why(tmp_path: Path, rules_file: Path) -> None:
    """A webhook whose setting names no declared target: accepted, and its notification is dead with the reason."""
    from router.rules.load import load_rules
    from router.rules.match import match
    from router.store import DEAD
    from tests.support.delivery import jobs_of, running_worker, wait_for

    settings = Settings(db_path=str(tmp_path / "router.sqlite3"), rules_path=str(rules_file),
                        templates_path=str(tmp_path / "t"))
    event = issue_alert({"target": "https://evil.example/hook"})
    with running_worker(settings) as delivery:
        accepted = delivery.accept(event, match(load_rules(str(rules_file)), event), 1200, 0)
        job_id = jobs_of(delivery, accepted)[0]
        job = wait_for(lambda: (j := delivery.store.get(job_id)) and j.status == DEAD and j)
    assert job.attempts == 1 and job.target == "setting:target"
    assert job.last_error == ('alert-rule action setting "target" names "https://evil.example/hook", which is not a '
                              "target in the rules (declared: audit, backend-mail, oncall): not sent")
