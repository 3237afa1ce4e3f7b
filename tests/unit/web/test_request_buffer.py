"""When a buffered connection's request is complete: the web worker's reading rules (router/web/request_buffer.py)."""

from __future__ import annotations

import socket

import pytest
from gunicorn.config import Config

from router.web.request_buffer import HANDOFF, TOO_LARGE, Limits, Pending

LIMITS = Limits(Config(), max_body=1000)
HEAD = b"POST /sentry/webhook HTTP/1.1\r\nHost: x\r\n"


def _feed(pieces: list[bytes], limits: Limits = LIMITS) -> list[object]:
    """What `check` answers after each piece arrives (requests shown as "request")."""
    a, b = socket.socketpair()
    with a, b:
        pending = Pending(a, ("127.0.0.1", 1), a, 0.0)
        out: list[object] = []
        for piece in pieces:
            pending.buf += piece
            found = pending.check(limits)
            out.append(found if found in (None, HANDOFF, TOO_LARGE) else "request")
        return out


CASES = [
    ("whole in one piece", [HEAD + b"Content-Length: 2\r\n\r\n{}"], ["request"]),
    ("head line by line", [HEAD, b"Content-Length: 2\r\n", b"\r\n", b"{}"], [None, None, None, HANDOFF]),
    ("body in two pieces", [HEAD + b"Content-Length: 4\r\n\r\n{}", b"{}"], [None, HANDOFF]),
    ("no body", [b"GET /-/healthy HTTP/1.1\r\n", b"\r\n"], [None, "request"]),
    ("declared body over the limit: refused unread", [HEAD + b"Content-Length: 1001\r\n\r\n"], ["request"]),
    ("chunked, last chunk apart", [HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n", b"0\r\n\r\n"],
     [None, HANDOFF]),
    ("chunked past the limit", [HEAD + b"Transfer-Encoding: chunked\r\n\r\n", b"3e8\r\n" + b"a" * 1000 + b"\r\n",
                                b"%x\r\n" % 70000 + b"a" * 70000], [None, None, HANDOFF]),
    ("chunked framing past every bound", [HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
                                          (b"1;" + b"x" * 8000 + b"\r\na\r\n") * 10], [None, TOO_LARGE]),
    ("malformed head", [b"POST /x HTTP/1.1\r\nBad Header\r\n\r\n"], [HANDOFF]),
    ("bare LF ends a head: the parser refuses it", [b"GET / HTTP/1.1\nHost: x\n\n"], [HANDOFF]),
    ("no end of head within gunicorn's limits", [HEAD + b"X: " + b"a" * LIMITS.head], [HANDOFF]),
]


@pytest.mark.parametrize("case, pieces, expected", CASES, ids=[c[0] for c in CASES])
def test_check_says_when_a_request_can_be_served(case: str, pieces: list[bytes], expected: list[object]) -> None:
    """Each piece leaves the request waiting (None), ready (parsed, or HANDOFF to parse again), or refused."""
    assert _feed(pieces) == expected


def test_expect_100_continue_is_sent_once_the_head_is_in() -> None:
    """A head with Expect: 100-continue and no body yet gets `100 Continue` on the connection."""
    a, b = socket.socketpair()
    with a, b:
        pending = Pending(a, ("127.0.0.1", 1), a, 0.0)
        pending.buf += HEAD + b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        assert pending.check(LIMITS) is None
        assert b.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        assert pending.continued
