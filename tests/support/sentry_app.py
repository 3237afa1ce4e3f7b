"""Payloads shaped as the official example app's test mocks (getsentry/integration-platform-example,
backend-py/tests/mocks.py) carrying alert-rule action settings, and a rules file that routes by them."""

from __future__ import annotations

import copy
from typing import Any

from router.sentry import SentryEvent, build
from tests.conftest import fixture_payload

UUID = "7a485448-a9e2-4c85-8a3c-4f44175783c9"   # the installation in metric_alert.critical.with_alert_rule_action

SETTING_RULES = """\
version: 1
targets:
  oncall:
    type: console
    selectable: true
    label: "On-call (#oncall)"
  backend-mail:
    type: console
    selectable: true
  audit:
    type: console
rules:
  - name: by-choice
    match:
      resource: [event_alert, metric_alert]
    notify: [{setting: target}]
"""


def settings_list(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Sentry's `[{"name", "value"}]` form of `values`."""
    return [{"name": k, "value": v} for k, v in values.items()]


def issue_alert(values: dict[str, Any] | None) -> SentryEvent:
    """event_alert.triggered; with `values`, the `issue_alert` an alert-rule action adds (settings included)."""
    payload = copy.deepcopy(fixture_payload("event_alert.triggered"))
    payload["data"].pop("issue_alert", None)
    if values is not None:
        payload["data"]["issue_alert"] = {"id": "456", "title": "issue alert", "settings": settings_list(values)}
    payload["installation"] = {"uuid": UUID}
    return build("event_alert", payload)


def metric_alert(action: str, per_trigger: dict[str, dict[str, Any]], owner: str = UUID) -> SentryEvent:
    """metric_alert.<action> whose triggers (label → settings) each carry one sentry_app action of `owner`."""
    payload = copy.deepcopy(fixture_payload("metric_alert.critical.with_alert_rule_action"))
    payload["action"] = action
    payload["data"]["metric_alert"]["alert_rule"]["triggers"] = [
        {"label": label, "actions": [{"type": "sentry_app", "settings": settings_list(values),
                                      "sentry_app_installation_uuid": owner}]}
        for label, values in per_trigger.items()]
    return build("metric_alert", payload)
