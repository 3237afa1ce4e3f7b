"""GET /api/v1/notifications?status= and POST /api/v1/notifications/<id>/replay."""

from __future__ import annotations

from flask import Response, request

from router.store import DEAD, SENT, SUPPRESSED
from router.web.api import bp
from router.web.api.data import BadQuery, list_notifications, runtime
from router.web.api.http import error, json_response

REPLAYABLE = (DEAD, SENT, SUPPRESSED)   # finished ones; queued or retrying ones are on their way already


def replay_one(job_id: str) -> tuple[int, str]:
    """Queue one finished notification again (with the target as the live rules define it): (status, message)."""
    rt = runtime()
    job = rt.delivery.store.get(job_id)
    if job is None:
        return 404, f"no notification with id {job_id[:40]!r}"
    if job.status not in REPLAYABLE:
        return 409, f"notification {job.id} is {job.status}: only {', '.join(REPLAYABLE)} ones can be replayed"
    if not rt.delivery.replay(job.id, REPLAYABLE):
        return 409, f"notification {job.id} changed status meanwhile; look again"
    return 202, f"notification {job.id} queued again"


@bp.get("/notifications")
def notifications() -> Response:
    """Newest first, with one status (queued, retrying, sent, dead, suppressed); `limit`; cursor `before`."""
    try:
        return json_response(list_notifications(runtime(), request.args))
    except BadQuery as exc:
        return error(400, str(exc))


@bp.post("/notifications/<job_id>/replay")
def replay(job_id: str) -> Response:
    """Send a finished notification again; 202 once it is queued."""
    status, message = replay_one(job_id)
    if status != 202:
        return error(status, message)
    return json_response({"id": job_id, "status": "queued", "message": message}, 202)
