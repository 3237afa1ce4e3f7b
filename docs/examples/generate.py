"""Write the rendered examples in docs/examples/: one per resource, as Slack JSON and email HTML.

    .venv/bin/python docs/examples/generate.py          # rewrite them
    .venv/bin/python docs/examples/generate.py --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # runnable as a script from anywhere

from router.render import Renderer  # noqa: E402
from router.rules.model import Rule, Target  # noqa: E402
from router.sentry import build  # noqa: E402

SAMPLES = ROOT / "router" / "samples"
# one representative sample per resource
EXAMPLES = ("installation.created", "issue.created", "issue.resolved", "issue.assigned", "error.created",
            "comment.created", "event_alert.triggered", "metric_alert.critical", "metric_alert.resolved",
            "seer.root_cause_completed", "seer.pr_created", "preprod_artifact.size_analysis_completed",
            "activity_alert.triggered")
SENTRY_URL = "https://acme.sentry.io"
RULE = Rule(name="example-rule", match=None, description="Example rule")


def render_examples() -> dict[str, str]:
    """File name → content for every example (uses only the shipped default templates)."""
    renderer = Renderer(templates_path=None, sentry_url=SENTRY_URL)
    files: dict[str, str] = {}
    for name in EXAMPLES:
        event = build(name.split(".")[0], json.loads((SAMPLES / f"{name}.json").read_text("utf-8")))
        slack = renderer.render(event, Target("oncall", "slack", {"channel": "#oncall"}), RULE)
        email = renderer.render(event, Target("team-mail", "email", {"to": ["team@example.com"]}), RULE)
        doc = {"text": slack.text, "blocks": list(slack.blocks or [])}
        files[f"{name}.slack.json"] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        files[f"{name}.email.html"] = f"<!-- Subject: {email.title} -->\n{email.html}\n"
    files.update(thread_examples(renderer))
    return files


def thread_examples(renderer: Renderer) -> dict[str, str]:
    """Slack threads: the issue card as edited when the issue is resolved, and an error as a reply in its thread;
    an incident's card as edited when the metric alert resolves, and a warning as a reply in its thread."""
    from router.channels.slack.status import card_status

    target = Target("oncall", "slack", {"channel": "#oncall", "thread": "issue"})
    card, resolved, error, warning, incident_resolved = (
        build(n.split(".")[0], json.loads((SAMPLES / f"{n}.json").read_text("utf-8")))
        for n in ("issue.created", "issue.resolved", "error.created", "metric_alert.warning", "metric_alert.resolved"))
    status, incident_status = card_status(resolved), card_status(incident_resolved)
    assert status is not None and incident_status is not None
    reply = {"kind": "reply"}
    out = {"issue.created.slack.updated-resolved.json": renderer.render(
               card, target, RULE, notification={"kind": "update", **status.as_dict()}),
           "error.created.slack.reply.json": renderer.render(error, target, RULE, notification=reply),
           # an incident's card shows its latest notification (each carries the incident's whole state)
           "metric_alert.resolved.slack.updated-resolved.json": renderer.render(
               incident_resolved, target, RULE, notification={"kind": "update", **incident_status.as_dict()}),
           "metric_alert.warning.slack.reply.json": renderer.render(warning, target, RULE, notification=reply)}
    return {name: json.dumps({"text": m.text, "blocks": list(m.blocks or [])}, indent=2, ensure_ascii=False) + "\n"
            for name, m in out.items()}


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the examples; returns the exit status."""
    stale = []
    for fname, content in render_examples().items():
        path = HERE / fname
        if "--check" in argv:
            if not path.exists() or path.read_text("utf-8") != content:
                stale.append(fname)
        else:
            path.write_text(content, "utf-8")
    if stale:
        print("out of date (run docs/examples/generate.py):", ", ".join(stale))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
