"""The silences page (DESIGN 3.3): list active and recently ended ones, add one, end one now. POSTs carry CSRF."""

from __future__ import annotations

import time
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from router.rules.conditions import plain
from router.rules.silence import SilenceError, new_silence
from router.rules.yamlio import YamlSyntaxError, parse_yaml
from router.store import new_id
from router.store.silences import silences_of
from router.web.api.data import runtime
from router.web.console import bp
from router.web.console.csrf import check_csrf


def _spec(form: Any) -> dict[str, Any]:
    """A silence spec from the form: conditions as YAML or JSON (a rule's match), an end, a reason."""
    try:
        match = plain(parse_yaml(form.get("match", ""))) if form.get("match", "").strip() else None
    except YamlSyntaxError as exc:
        raise SilenceError([f"match: line {exc.line}: {exc}"]) from None
    spec: dict[str, Any] = {"match": match, "reason": form.get("reason", ""), "created_by": form.get("created_by", "")}
    if form.get("until_resolved"):
        spec["until_resolved"] = True
    if form.get("duration", "").strip():
        spec["duration"] = form["duration"].strip()
    return spec


@bp.route("/silences", methods=["GET", "POST"])
def silences() -> str | Response:
    """GET: the list and the form; POST: add a silence (its errors shown beside the form)."""
    store = silences_of(runtime().delivery.store)
    errors: list[str] = []
    form = {"match": "", "duration": "2h", "reason": "", "created_by": ""}
    if request.method == "POST":
        check_csrf()
        form.update({k: request.form.get(k, "") for k in form})
        try:
            store.add(new_silence(_spec(request.form), time.time(), new_id()))
            return redirect(url_for("console.silences"), 303)
        except SilenceError as exc:
            errors = exc.errors
    now = time.time()
    return render_template("console/silences.html", silences=[s.view(now) for s in store.listed(now)],
                           errors=errors, form=form)


@bp.post("/silences/<silence_id>/end")
def end_silence(silence_id: str) -> Response:
    """End a silence now."""
    check_csrf()
    silences_of(runtime().delivery.store).end(silence_id, time.time(), "expired")
    return redirect(url_for("console.silences"), 303)
