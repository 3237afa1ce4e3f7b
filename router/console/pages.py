"""Console pages: each reads the store, renders a template (autoescaped) and sends nothing anywhere."""

from __future__ import annotations

from flask import current_app, render_template

from router.api.status import status_report
from router.console import bp


@bp.get("/")
def index() -> str:
    """The console's front page: the router's status."""
    return render_template("console/status.html", status=status_report(current_app.extensions["router"]))
