"""Sentry's integration-platform JSON beyond webhooks: alert-rule action settings, UI-component requests,
installation grants and tokens, and the issue details the API answers (SENTRY.md "Alert-rule actions …")."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.sentry.body import BadPayload, decode
from router.sentry.event import SentryEvent
from router.sentry.shortcuts import dig

# a metric alert's resolve names no trigger of its own: the settings come from the triggers that fired
_RESOLVE_TRIGGERS = ("critical", "warning")


def fields_dict(fields: Any) -> dict[str, Any]:
    """Sentry's `[{"name", "value"}]` settings as {name: value} (a plain mapping is taken as it is)."""
    if isinstance(fields, Mapping):
        return {str(k): v for k, v in fields.items()}
    out: dict[str, Any] = {}
    for item in fields if isinstance(fields, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            out[item["name"]] = item.get("value")
    return out


def _installation_uuid(event: SentryEvent) -> str | None:
    uuid = dig(event.installation, "uuid")
    return str(uuid) if uuid else None


def _metric_action_settings(event: SentryEvent) -> Any:
    """The settings of this installation's action on the trigger this metric alert webhook is for."""
    triggers = dig(event.data, "metric_alert", "alert_rule", "triggers")
    if not isinstance(triggers, list):
        return None
    labels = (event.action,) if event.action in _RESOLVE_TRIGGERS else _RESOLVE_TRIGGERS
    uuid = _installation_uuid(event)
    for label in labels:
        for trigger in triggers:
            if not isinstance(trigger, Mapping) or trigger.get("label") != label:
                continue
            actions = trigger.get("actions")
            for action in actions if isinstance(actions, list) else ():
                if not isinstance(action, Mapping) or "settings" not in action:
                    continue
                owner = action.get("sentry_app_installation_uuid")
                if uuid is None or owner is None or str(owner) == uuid:
                    return action.get("settings")
    return None


def action_settings(event: SentryEvent) -> dict[str, Any]:
    """The alert-rule action settings chosen in Sentry for this webhook ({} when it carries none).

    Issue alerts: `data.issue_alert.settings`. Metric alerts: the trigger named by the action (a resolve: the
    critical, then the warning trigger), and on it the action of this installation.
    """
    if event.resource == "metric_alert":
        return fields_dict(_metric_action_settings(event))
    return fields_dict(dig(event.data, "issue_alert", "settings"))


@dataclass(frozen=True)
class ActionRequest:
    """What Sentry sends when a user saves an alert rule with our action."""

    installation_id: str
    fields: dict[str, Any]


def parse_action_request(body: bytes) -> ActionRequest:
    """The body of an alert-rule-action request; raise BadPayload naming what is wrong."""
    payload = decode(body) if body else None
    if not isinstance(payload, dict):
        raise BadPayload('body: expected a JSON object with "fields" and "installationId"')
    fields = payload.get("fields")
    if not isinstance(fields, (list, dict)):
        raise BadPayload('body: "fields" is missing or not a list of {"name", "value"}')
    inst = payload.get("installationId")
    return ActionRequest(str(inst) if isinstance(inst, (str, int)) else "", fields_dict(fields))


@dataclass(frozen=True)
class Grant:
    """A token Sentry issued for one installation; `expires_at` is Unix seconds (0 = never)."""

    token: str
    refresh_token: str
    expires_at: float


def _timestamp(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + 8 * 3600.0   # Sentry's tokens live 8 hours


def parse_grant(payload: Any) -> Grant:
    """The answer of `…/authorizations/`: `{"token", "refreshToken", "expiresAt"}`; raise BadPayload otherwise."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("token"), str) or not payload["token"]:
        raise BadPayload('authorization answer has no "token"')
    refresh = payload.get("refreshToken")
    return Grant(payload["token"], refresh if isinstance(refresh, str) else "", _timestamp(payload.get("expiresAt")))


@dataclass(frozen=True)
class Installation:
    """What an installation webhook says: its uuid, organization slug and, for a new one, the grant code."""

    uuid: str
    org: str | None
    code: str | None


def installation(event: SentryEvent) -> Installation | None:
    """The installation an `installation.*` webhook is about (None for other resources or without a uuid)."""
    if event.resource != "installation":
        return None
    inst = event.data.get("installation")
    uuid = dig(inst, "uuid") or _installation_uuid(event)
    if not uuid:
        return None
    org, code = dig(inst, "organization", "slug"), dig(inst, "code")
    return Installation(str(uuid), str(org) if org else None, str(code) if isinstance(code, str) and code else None)


def issue_ref(event: SentryEvent) -> tuple[str, str] | None:
    """(installation uuid, issue id) to look an issue up by, when the webhook names both."""
    issue = event.shortcuts.get("issue_id")
    uuid = _installation_uuid(event)
    return (uuid, str(issue)) if issue and uuid else None


def issue_facts(payload: Any) -> dict[str, Any]:
    """The facts `GET /api/0/organizations/{org}/issues/{id}/` gives: title, short id, link, assignee email."""
    if not isinstance(payload, Mapping):
        return {}
    assigned = payload.get("assignedTo")
    facts = {"title": payload.get("title"), "short_id": payload.get("shortId"), "web_url": payload.get("permalink"),
             "assignee": dig(assigned, "name"), "assignee_email": dig(assigned, "email")}
    return {k: str(v) for k, v in facts.items() if isinstance(v, (str, int)) and v != ""}


def assignee_email(event: SentryEvent) -> str | None:
    """The email of the user an issue is assigned to, when the webhook carries it."""
    for email in (dig(event.data, "assignee", "email"), dig(event.data, "issue", "assignedTo", "email")):
        if isinstance(email, str) and "@" in email:
            return email
    return None
