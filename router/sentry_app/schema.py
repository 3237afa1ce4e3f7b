"""The UI-component schema to paste into Sentry: an alert-rule action with a `target` select (DESIGN 3.5)."""

from __future__ import annotations

from typing import Any

ACTION_URI = "/sentry/alert-rule-action"
TARGETS_URI = "/sentry/options/targets"


def ui_schema(title: str = "Notify with sentry-router") -> dict[str, Any]:
    """The schema: Sentry shows our action in its alert-rule editor, loads the select from TARGETS_URI and asks
    ACTION_URI to validate the choice when the rule is saved."""
    return {"elements": [{
        "type": "alert-rule-action",
        "title": title,
        "settings": {
            "type": "alert-rule-settings",
            "uri": ACTION_URI,
            "description": "Pick where sentry-router sends this alert (targets marked selectable: true in rules.yaml)",
            "required_fields": [{"type": "select", "label": "Send to", "name": "target", "uri": TARGETS_URI}],
        },
    }]}
