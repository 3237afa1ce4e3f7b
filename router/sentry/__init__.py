"""The only package that knows Sentry's webhook JSON; re-exports the public API of its modules."""

from router.sentry.event import (
    KNOWN_ACTIONS,
    KNOWN_RESOURCES,
    LEVELS,
    MAX_DEPTH,
    MISSING,
    SUBJECT_PATHS,
    BadPayload,
    SentryEvent,
    build,
    encode_like_sentry,
    issue_link,
    lookup,
    parse,
)

__all__ = ["KNOWN_ACTIONS", "KNOWN_RESOURCES", "LEVELS", "MAX_DEPTH", "MISSING", "SUBJECT_PATHS", "BadPayload",
           "SentryEvent", "build", "encode_like_sentry", "issue_link", "lookup", "parse"]
