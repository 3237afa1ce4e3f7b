"""The playground: paste or pick a payload (and optionally a draft rules file) and see matches and previews.

Sends nothing and saves nothing: the draft is compiled in memory; its errors are shown at their lines.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from flask import render_template, request

from router.rules.load import RulesError, load_rules_text
from router.sentry import KNOWN_RESOURCES, BadPayload
from router.web.api.data import masked, runtime
from router.web.api.explain_view import explain_body
from router.web.console import bp
from router.web.console.csrf import check_csrf
from router.web.console.slack_preview import preview

DRAFT_NAME = "draft.yaml"


def sample_names() -> list[str]:
    """The shipped sample payloads (router/samples), by name."""
    folder = resources.files("router") / "samples"
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def _sample(name: str) -> str:
    if name not in sample_names():
        return ""
    return (resources.files("router") / "samples" / f"{name}.json").read_text("utf-8")


def draft_errors(text: str) -> tuple[Any, list[dict[str, Any]]]:
    """The compiled draft rules, or None and its errors as {"line", "message"} (masked: the draft sees the env)."""
    try:
        return load_rules_text(text, DRAFT_NAME, os.environ), []
    except RulesError as exc:
        rt = runtime()
        out = []
        last = max(len(text.splitlines()), 1)
        for line in exc.errors:
            head, _, rest = line.partition(": ")
            num = head.rpartition(":")[2]
            n = int(num) if num.isdigit() else None
            # `at`: the line it is shown beside (an error at the end of the file, beside the last line)
            out.append({"line": n, "at": min(n, last) if n else None, "message": masked(rt, rest or line)})
        return None, out


def _result(payload: str, resource: str, rules_text: str) -> dict[str, Any]:
    rt = runtime()
    out: dict[str, Any] = {"errors": [], "result": None, "rule_errors": []}
    ruleset = None
    if rules_text.strip():
        ruleset, out["rule_errors"] = draft_errors(rules_text)
        if ruleset is None:
            return out
    try:
        result = explain_body(rt, payload.encode("utf-8", "surrogateescape"), resource or None, ruleset)
    except BadPayload as exc:
        out["errors"].append(str(exc))
        return out
    for p in result["previews"]:
        p["slack"] = preview(p["rendered"].get("blocks")) if p["rendered"].get("blocks") else None
    out["result"] = result
    return out


@bp.route("/playground", methods=["GET", "POST"])
def playground() -> str:
    """GET: the form (optionally with ?sample=NAME filled in); POST: the same form with what it would do."""
    form: dict[str, str] = {"payload": "", "resource": "", "rules": "", "sample": request.args.get("sample", "")}
    outcome = None
    if request.method == "POST":
        check_csrf()
        form.update({k: request.form.get(k, "") for k in ("payload", "resource", "rules")})
        outcome = _result(form["payload"], form["resource"].strip(), form["rules"])
    elif form["sample"]:
        form["payload"] = _sample(form["sample"])
        form["resource"] = form["sample"].split(".")[0]
    return render_template("console/playground.html", form=form, outcome=outcome, samples=sample_names(),
                           resources=KNOWN_RESOURCES, rules_lines=form["rules"].splitlines())
