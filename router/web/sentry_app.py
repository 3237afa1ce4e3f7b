"""Sentry's UI-component requests: validating the alert-rule action a user saves, and the options of its select.

Both are signed like webhooks, in `Sentry-App-Signature` (a GET over the empty body). Answers follow what
Sentry shows: `{"message"}` on a refusal, `[{"label", "value"}]` for a select.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from flask import Blueprint, Response, current_app, request

from router.masking import one_line
from router.rules.model import RuleSet, Target
from router.sentry import BadPayload
from router.sentry.app import parse_action_request
from router.sentry.verify import verify
from router.sentry_app.schema import ACTION_URI, TARGETS_URI

log = logging.getLogger(__name__)
bp = Blueprint("sentry_app", __name__)
MAX_BODY = 65536   # a form's fields: far below any webhook


def _json(status: int, value: object) -> Response:
    return Response(orjson.dumps(value) + b"\n", status=status, mimetype="application/json")


def _signed(body: bytes) -> bool:
    secrets = current_app.extensions["router"].settings.client_secrets
    signature = request.headers.get("Sentry-App-Signature") or request.headers.get("Sentry-Hook-Signature")
    return verify(body, signature, secrets)


def _ruleset() -> RuleSet:
    rules = current_app.extensions["router"].rules
    rules.maybe_reload()
    current: RuleSet = rules.current
    return current


def selectable(targets: Mapping[str, Target]) -> list[Target]:
    """The targets a rule author offers in Sentry's alert-rule editor, by name."""
    return sorted((t for t in targets.values() if t.selectable), key=lambda t: t.name)


def refusal(fields: Mapping[str, object], targets: Mapping[str, Target]) -> str | None:
    """Why these alert-rule action settings cannot be saved, naming the wrong value and the valid choices; or None."""
    choices = [t.name for t in selectable(targets)]
    valid = f"valid choices: {', '.join(choices)}" if choices else \
        "no target is offered: mark targets with selectable: true in rules.yaml"
    value = fields.get("target")
    if value in (None, ""):
        return f"target: missing: pick where sentry-router sends this alert ({valid})"
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) not in choices:
        shown = one_line(str(value))[:80]
        return f'target: "{shown}" is not a target you can pick ({valid})'
    return None


@bp.route(ACTION_URI, methods=["POST"], strict_slashes=False)
def alert_rule_action() -> Response:
    """Validate the settings a user saves for our alert-rule action: 200, or 400 {"message"} Sentry shows."""
    body = request.stream.read(MAX_BODY + 1)
    if not _signed(body):
        return _json(401, {"message": "missing or wrong Sentry-App-Signature"})
    if len(body) > MAX_BODY:
        return _json(400, {"message": f"body larger than {MAX_BODY} bytes"})
    try:
        action = parse_action_request(body)
    except BadPayload as exc:
        return _json(400, {"message": str(exc)})
    why = refusal(action.fields, _ruleset().targets)
    if why is not None:
        log.info("alert-rule action refused (installation %s): %s", one_line(action.installation_id)[:64], why)
        return _json(400, {"message": why})
    return _json(200, {"message": f'sentry-router sends this alert to "{action.fields["target"]}"'})


@bp.route(TARGETS_URI, methods=["GET"], strict_slashes=False)
def target_options() -> Response:
    """The options of the `target` select: `[{"label", "value"}]`, filtered by Sentry's `query` when given."""
    if not _signed(b""):
        return _json(401, {"message": "missing or wrong Sentry-App-Signature"})
    query = request.args.get("query", "").strip().lower()
    options = [{"label": t.label or t.name, "value": t.name} for t in selectable(_ruleset().targets)
               if not query or query in t.name.lower() or query in (t.label or "").lower()]
    return _json(200, options)
