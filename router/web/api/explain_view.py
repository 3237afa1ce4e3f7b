"""POST /api/v1/explain: what a webhook would match and render, without sending or storing anything."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from router.rules.match import match
from router.rules.model import RuleSet
from router.sentry import BadPayload, parse
from router.web.api import bp
from router.web.api.data import message_json, renderer, runtime
from router.web.api.explain import explain_json
from router.web.api.http import error, json_response
from router.web.runtime import Runtime


def explain_body(rt: Runtime, body: bytes, resource: str | None, ruleset: RuleSet | None = None) -> dict[str, Any]:
    """matched, explain and previews for one body; raises BadPayload with what was wrong."""
    event = parse(body, resource)
    ruleset = ruleset or rt.rules.current
    result = match(ruleset, event)
    previews = [{"target": n.target.name, "type": n.target.type, "rule": n.rule.name,
                 "rendered": message_json(renderer(rt).render(event, n.target, n.rule))}
                for n in result.notifications]
    return {"resource": event.resource, "action": event.action, "matched": list(result.matched),
            "explain": explain_json(ruleset, event), "previews": previews}


@bp.post("/explain")
def explain_view() -> Response:
    """Explain a pasted webhook body (header Sentry-Hook-Resource); sends nothing, stores nothing."""
    rt = runtime()
    too_big = (request.content_length or 0) > rt.settings.max_body
    body = b"" if too_big else request.stream.read(rt.settings.max_body + 1)
    if too_big or len(body) > rt.settings.max_body:
        return error(413, f"body larger than ROUTER_MAX_BODY ({rt.settings.max_body} bytes)")
    try:
        return json_response(explain_body(rt, body, request.headers.get("Sentry-Hook-Resource")))
    except BadPayload as exc:
        return error(400, str(exc))
