"""One client connection of the web worker, read into memory: is its request complete enough to serve yet?

The worker (router/web/serving.py) reads without blocking and appends to `Pending.buf`; `Pending.check` says when
the buffer holds a whole request (its head, and the body its Content-Length or chunked framing announces), a
head that asks for more than ROUTER_MAX_BODY (refused unread), or bytes gunicorn's parser will refuse. The
framing is learnt from gunicorn's own parser run over the buffer, so what is judged complete here is what
gunicorn then parses.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from gunicorn import http
from gunicorn.http.body import LengthReader

HANDOFF = "handoff"       # serve the bytes as they are: gunicorn's parser answers what is wrong with them
TOO_LARGE = "too large"   # a chunked body whose framing alone outgrew every bound: answered 413 unread
STEP = 65536


class Incomplete(Exception):
    """A trial parse reached the end of the bytes received so far."""


class BufferSource:
    """Bytes as a socket to gunicorn's parser: past their end, end of input (or Incomplete in a trial)."""

    __slots__ = ("data", "pos", "trial")

    def __init__(self, data: bytes, trial: bool) -> None:
        self.data, self.pos, self.trial = data, 0, trial

    def recv(self, size: int) -> bytes:
        """The next `size` bytes at most; at the end b"", or Incomplete in a trial."""
        chunk = self.data[self.pos:self.pos + size]
        if not chunk and self.trial:
            raise Incomplete()
        self.pos += len(chunk)
        return chunk


@dataclass(frozen=True)
class Limits:
    """gunicorn's config, ROUTER_MAX_BODY, and the largest head gunicorn's limits allow."""

    cfg: Any
    max_body: int

    @cached_property
    def head(self) -> int:
        """Bytes of request line and headers past which gunicorn refuses a head."""
        cfg = self.cfg
        size: int = cfg.limit_request_line + 2 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4
        return size


class Pending:
    """A connection being read: its buffer, its deadline, what is known of its request so far."""

    __slots__ = ("sock", "addr", "listener", "buf", "deadline", "scanned", "body_start", "length",
                 "next_trial", "continued", "lingering", "drained", "watched")

    def __init__(self, sock: socket.socket, addr: Any, listener: socket.socket, deadline: float) -> None:
        self.sock, self.addr, self.listener, self.deadline = sock, addr, listener, deadline
        self.buf = bytearray()
        self.scanned = 0
        self.body_start = -1      # where the body starts, once the head has been parsed
        self.length = -1          # Content-Length; -1 while unknown or chunked
        self.next_trial = 0       # buffered body size at which a chunked body is decoded again
        self.continued = self.lingering = self.watched = False
        self.drained = 0

    def request(self, cfg: Any, trial: bool) -> tuple[Any, BufferSource]:
        """gunicorn's request over the buffer (its head parsed), and the source it reads the rest from."""
        source = BufferSource(bytes(self.buf), trial)
        return next(http.get_parser(cfg, source, self.addr)), source  # type: ignore[call-overload]  # reads recv() only

    def whole(self) -> bool:
        """True when the buffer is exactly one request with a Content-Length: nothing left unread."""
        return self.length >= 0 and len(self.buf) == self.body_start + self.length

    def check(self, limits: Limits) -> Any:
        """A parsed request, HANDOFF or TOO_LARGE once the buffer holds enough to answer; None while it needs more."""
        buf = self.buf
        if self.body_start < 0:
            start = max(0, self.scanned - 3)
            self.scanned = len(buf)
            if buf.find(b"\n\r\n", start) < 0 and buf.find(b"\n\n", start) < 0:
                return HANDOFF if len(buf) > limits.head else None
            found = self._head(limits)
            if found is not None or self.length >= 0 or self.body_start < 0:
                return found
        if self.length >= 0:
            return HANDOFF if len(buf) >= self.body_start + self.length else None
        return self._chunked(limits)

    def _head(self, limits: Limits) -> Any:
        """Parse the head once it has ended: learn the body's framing; send 100 Continue if asked."""
        try:
            req, source = self.request(limits.cfg, trial=True)
        except Incomplete:
            return None
        except Exception:  # malformed: gunicorn's handling answers it from the same bytes
            return HANDOFF
        self.body_start = source.pos - len(req.unreader.buf.getvalue())
        reader = req.body.reader
        self.length = reader.length if isinstance(reader, LengthReader) else -1
        self.next_trial = limits.max_body + 1
        if self.length > limits.max_body or 0 <= self.length <= len(self.buf) - self.body_start:
            source.trial = False
            return req    # complete, or refused unread (Content-Length over ROUTER_MAX_BODY)
        if req._expected_100_continue:
            self.continued = True
            with contextlib.suppress(OSError):
                self.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return None

    def _chunked(self, limits: Limits) -> Any:
        """Decode a chunked body when it may have ended or outgrown ROUTER_MAX_BODY: HANDOFF, TOO_LARGE or None."""
        raw = len(self.buf) - self.body_start
        if not self.buf.endswith(b"\r\n\r\n") and raw < self.next_trial:
            return None
        self.next_trial = raw + max(limits.max_body // 4, STEP)
        try:
            req, _ = self.request(limits.cfg, trial=True)
            size = 0
            while piece := req.body.read(STEP):
                size += len(piece)
                if size > limits.max_body:
                    return HANDOFF     # the app reads past the limit and answers 413
        except Incomplete:
            # tiny chunks: framing, not data, past any body the app would take
            return TOO_LARGE if raw > 8 * limits.max_body + STEP else None
        except Exception:  # malformed chunks: gunicorn's handling answers them
            return HANDOFF
        return HANDOFF
