"""The gunicorn worker class of the web half: threads, and one read deadline per request.

gunicorn's `sync` workers serve one connection each: two clients sending their headers a line every
few seconds stopped all ingest (issue 13). This worker is gunicorn's `gthread` (idle and kept-alive
connections wait in a poller, not in a thread, and a thread serves one request at a time) plus a
deadline: a client gets ROUTER_READ_TIMEOUT seconds from its first byte to send a request's headers
and body, after which its connection is closed. A slow client holds a thread at most that long.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from router.settings import Settings


class DeadlineSocket:
    """A client socket whose reads for one request share a deadline; past it, reads see end of input."""

    __slots__ = ("_sock", "limit", "deadline")

    def __init__(self, sock: socket.socket, limit: float) -> None:
        self._sock, self.limit, self.deadline = sock, limit, None

    def recv(self, size: int, *flags: int) -> bytes:
        """At most `size` bytes, or b"" (end of input) once the request's deadline has passed."""
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.limit
        remaining = self.deadline - now
        if remaining <= 0:
            return b""
        sock = self._sock
        sock.settimeout(remaining)
        try:
            return sock.recv(size, *flags)
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class DeadlineWorker(ThreadWorker):
    """gunicorn's threaded worker whose connections get a deadline for reading each request."""

    read_timeout = 10.0

    def init_process(self) -> None:
        """Read ROUTER_READ_TIMEOUT, then run gunicorn's threaded worker loop."""
        self.read_timeout = Settings.from_env().read_timeout
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Wrap a new connection's socket (not TLS: gunicorn wraps that itself) before a thread reads it."""
        if not isinstance(conn.sock, DeadlineSocket) and not self.cfg.is_ssl:
            conn.sock = DeadlineSocket(conn.sock, self.read_timeout)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Serve one request; its deadline starts at its first byte and ends with it."""
        sock = conn.sock
        if isinstance(sock, DeadlineSocket):
            sock.deadline = None
        try:
            return super().handle(conn)
        finally:
            if isinstance(sock, DeadlineSocket):
                sock.deadline = None
