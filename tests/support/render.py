"""Helpers shared by the render and channel tests: one bundled sample per resource, hostile payloads."""

from __future__ import annotations

import json
from pathlib import Path

from router.sentry import SentryEvent, build

SAMPLES = Path(__file__).resolve().parents[2] / "router" / "samples"
RESOURCES = ("installation", "issue", "error", "comment", "event_alert", "metric_alert", "seer",
             "preprod_artifact", "activity_alert")
ALL_SAMPLES = sorted(p.name[: -len(".json")] for p in SAMPLES.glob("*.json"))
HOSTILE_TITLE = "<script>alert(1)</script> <!channel> Tom & Jerry's \"cheese\" 🧀"


def sample(name: str) -> SentryEvent:
    """The bundled sample `resource.action[.variant]` as a SentryEvent."""
    return build(name.split(".")[0], json.loads((SAMPLES / f"{name}.json").read_text("utf-8")))


def first_sample(resource: str) -> str:
    """The first bundled sample name of a resource."""
    return next(n for n in ALL_SAMPLES if n.split(".")[0] == resource)


def hostile_issue() -> SentryEvent:
    """issue.created whose title and culprit hold markup, a Slack mention, & and emoji."""
    payload = json.loads((SAMPLES / "issue.created.json").read_text("utf-8"))
    payload["data"]["issue"]["title"] = HOSTILE_TITLE
    payload["data"]["issue"]["culprit"] = "<@U123> & <https://evil.example|click me>"
    return build("issue", payload)
