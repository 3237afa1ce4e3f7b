"""Console pages that change something: notifications by status with replay (one or many). POSTs carry CSRF."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from router.web.api.data import BadQuery, list_notifications, runtime
from router.web.api.notifications import replay_one
from router.web.console import bp
from router.web.console.csrf import check_csrf

STATUS_TABS = ("dead", "retrying", "queued", "sent", "suppressed")


@bp.get("/notifications")
def notifications() -> str:
    """Notifications in one status (dead letters by default), newest first, with replay."""
    status = request.args.get("status", "dead")
    args = {k: v for k, v in request.args.items() if v != "" and k != "done"}
    args["status"] = status
    try:
        page = list_notifications(runtime(), args)
    except BadQuery as exc:
        abort(400, description=str(exc))
    return render_template("console/notifications.html", page=page, status=status, tabs=STATUS_TABS,
                           results=request.args.getlist("done"))


@bp.post("/notifications/replay")
def replay() -> Response:
    """Replay one (the row's button) or every ticked notification; back to where the form was."""
    check_csrf()
    ids = [request.form["one"]] if request.form.get("one") else request.form.getlist("ids")
    if not ids:
        abort(400, description="no notification chosen: tick some, or use a row's Replay button")
    messages = [replay_one(job_id)[1] for job_id in ids[:500]]
    back = request.form.get("back", "")
    if not back.startswith("/ui/"):  # only ever back into the console
        back = url_for("console.notifications")
    return redirect(_with_done(back, messages), 303)


def _with_done(url: str, messages: list[str]) -> str:
    from urllib.parse import urlencode

    sep = "&" if "?" in url else "?"
    return url + sep + urlencode([("done", m) for m in messages[:20]])

