"""Signature verification over raw bytes (router/sentry/verify.py)."""

from __future__ import annotations

import pytest

from router.sentry.verify import sign, verify

VECTOR_BODY = (b'{"action":"created","data":{"comment":"adding a comment","project_slug":"sentry","comment_id":1234,'
               b'"issue_id":100,"timestamp":"2022-03-02T21:51:44.118160Z"},"installation":{"uuid":'
               b'"eac5a0ae-60ec-418f-9318-46dc5e7e52ec"},"actor":{"type":"user","id":1,"name":"colleen"}}')
VECTOR_SIG = "96cdc9cf43fb8349fd0371e078193b23054c58993ee61e858f3bc6cb1ee23c38"


def test_sentry_test_vector() -> None:
    """Our HMAC matches the test vector from Sentry's own code."""
    assert sign(VECTOR_BODY, "test-client-secret") == VECTOR_SIG
    assert verify(VECTOR_BODY, VECTOR_SIG, ["test-client-secret"])


@pytest.mark.parametrize("signature, secrets, expected", [
    (VECTOR_SIG, ["test-client-secret"], True),
    (VECTOR_SIG.upper(), ["test-client-secret"], True),
    (VECTOR_SIG, ["old-secret", "test-client-secret"], True),
    (VECTOR_SIG, ["other-secret"], False),
    (VECTOR_SIG, [], False),
    ("", ["test-client-secret"], False),
    (None, ["test-client-secret"], False),
    (VECTOR_SIG[:-1], ["test-client-secret"], False),
    ("zz" * 32, ["test-client-secret"], False),
    ("\u00e9" * 64, ["test-client-secret"], False),
])
def test_verify_table(signature: str | None, secrets: list[str], expected: bool) -> None:
    """A signature verifies only when it is the body's HMAC under one of the configured secrets."""
    assert verify(VECTOR_BODY, signature, secrets) is expected


def test_one_changed_byte_fails() -> None:
    """Any change to the signed bytes (even whitespace) breaks the signature."""
    assert not verify(VECTOR_BODY.replace(b",", b", ", 1), VECTOR_SIG, ["test-client-secret"])
