"""The only package that knows Sentry's webhook JSON; re-exports the public API of its modules.

event.py: SentryEvent, parse, build, lookup, subject ids, encoding. body.py: the body's JSON, decoded safely.
shortcuts.py: the Sentry-aware shortcuts. shape.py: which resource a body really is; bounded metric labels.
details.py: the human-facing facts templates need (summary text, Seer run, preprod build, card subject, …).
"""

from router.sentry.body import MAX_DEPTH, BadPayload
from router.sentry.event import (
    KNOWN_ACTIONS,
    KNOWN_RESOURCES,
    LEVELS,
    MISSING,
    SUBJECT_PATHS,
    SentryEvent,
    build,
    encode_like_sentry,
    issue_link,
    lookup,
    parse,
    thaw,
)
from router.sentry.shape import body_resource, label

__all__ = ["KNOWN_ACTIONS", "KNOWN_RESOURCES", "LEVELS", "MAX_DEPTH", "MISSING", "SUBJECT_PATHS", "BadPayload",
           "SentryEvent", "body_resource", "build", "encode_like_sentry", "issue_link", "label", "lookup", "parse",
           "thaw"]
