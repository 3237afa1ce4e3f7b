"""Which resource a webhook body really is, from its shape: `Sentry-Hook-Resource` is not signed, the body is.

A captured signed body replayed under invented resource names must not become new webhooks (new dedup
keys, new deliveries, new metric series): the header must agree with the body's shape, and metric labels
only take names Sentry sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# (resource, the keys of `data` that only its bodies carry), most specific first: an activity alert carries
# an issue too (SENTRY.md, tests/fixtures)
SHAPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("activity_alert", ("activity", "alert", "issue")),
    ("event_alert", ("event", "triggered_rule")),
    ("metric_alert", ("metric_alert",)),
    ("comment", ("comment_id",)),
    ("seer", ("run_id",)),
    ("preprod_artifact", ("buildId",)),
    ("error", ("error",)),
    ("installation", ("installation",)),
    ("issue", ("issue",)),
)
OTHER = "other"


def body_resource(data: Mapping[str, Any]) -> str | None:
    """The resource whose shape `data` has, or None when it looks like none Sentry sends today."""
    for resource, keys in SHAPES:
        if all(key in data for key in keys):
            return resource
    return None


def contradiction(header: str, data: Mapping[str, Any]) -> str | None:
    """Why `Sentry-Hook-Resource: header` cannot be this body's resource, or None when it may be."""
    shaped = body_resource(data)
    if shaped is None or shaped == header:
        return None
    return (f"Sentry-Hook-Resource header says {header!r} but the body is a {shaped!r} webhook "
            f"(it has data.{' and data.'.join(dict(SHAPES)[shaped])})")


def label(value: str, known: tuple[str, ...] | Mapping[str, Any]) -> str:
    """`value` as a metric label: itself when Sentry sends it, else "other" (labels never grow with input)."""
    return value if value in known else OTHER
