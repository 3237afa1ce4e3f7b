"""The gunicorn worker class of the web half: one thread that buffers each request whole before the app runs.

gunicorn's `sync` workers serve one connection each: two clients sending their headers a line every few
seconds stopped all ingest (issue 13). gunicorn's threaded worker with a read deadline fixed that, but
handing the GIL and SQLite's locks between threads cost a third of ingest's throughput (bench/RESULTS.md,
"Slow clients"). Here one thread runs a `selectors` loop: it accepts connections and reads them without
blocking into one buffer each; a client gets ROUTER_READ_TIMEOUT seconds from its connection to send a
request's headers and body, then it is closed. Only a complete request reaches gunicorn's own parser and
the app, from memory, in the same thread: a slow client holds a buffer, never the thread. One request
per connection, as with `sync` (a keep-alive client reconnects). Bounds: at most gunicorn's
worker_connections (1,000) open connections per process; buffers past 64 KiB share a budget of
4 x ROUTER_MAX_BODY (at least 16 MiB), over which a connection waits unread while its deadline runs.
What makes a request complete is router/web/request_buffer.py.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import sys
import time
from typing import Any

from gunicorn import util
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.sync import SyncWorker

from router.settings import Settings
from router.web.request_buffer import HANDOFF, TOO_LARGE, Limits, Pending

SMALL = 65536             # a buffer this small may always grow (heads, most webhooks); larger ones share a budget
ACCEPT_BATCH = 4          # connections accepted per turn of the loop
LINGER = 2.0              # seconds a closing connection may take to send its FIN (gunicorn's close_graceful)
MAX_DRAIN = 65536         # bytes read and dropped from a closing connection at most (close_graceful's max_drain)


class BufferingWorker(SyncWorker):
    """A single-threaded gunicorn worker: slow clients fill buffers; the app only sees complete requests."""

    read_timeout: float
    max_body: int

    def init_process(self) -> None:
        """Read ROUTER_READ_TIMEOUT and ROUTER_MAX_BODY, then run the loop."""
        settings = Settings.from_env()
        self.read_timeout, self.max_body = settings.read_timeout, settings.max_body
        self.limits = Limits(self.cfg, self.max_body)
        if self.cfg.is_ssl:
            self.log.error("router.web.serving.BufferingWorker does not terminate TLS: put a proxy in front of it")
            sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the master stops instead of restarting workers
        super().init_process()

    def run(self) -> None:
        """Accept, read, serve complete requests, expire slow ones; on shutdown finish what was accepted."""
        self.sel = selectors.DefaultSelector()
        self.conns: dict[int, Pending] = {}
        self.paused: list[Pending] = []  # connections waiting for the memory budget
        self.buffered = 0                 # bytes held in all buffers
        self.budget = max(4 * self.max_body, 16 << 20)
        for listener in self.sockets:
            listener.setblocking(False)
            self.sel.register(listener, selectors.EVENT_READ, listener)
        self.sel.register(self.PIPE[0], selectors.EVENT_READ, None)
        self.accepting, last_tick, stop_at = True, 0.0, None
        while True:
            now = time.monotonic()
            if now - last_tick >= 0.5:
                self.notify()
                self.expire(now)
                last_tick = now
                if not self.is_parent_alive():
                    break
            if not self.alive:
                stop_at = stop_at or now + min(self.read_timeout, max(self.cfg.graceful_timeout - 1, 1))
                self.set_accepting(False)
                if not self.conns or now > stop_at:
                    break
            for key, _ in self.sel.select(0.5):
                if isinstance(key.data, Pending):
                    self.read_guarded(key.data)
                elif key.data is None:
                    self.drain_pipe()
                else:
                    self.accept(key.data)
        for conn in list(self.conns.values()):
            self.close(conn)

    def drain_pipe(self) -> None:
        """Empty the wake-up pipe (signals write to it)."""
        try:
            while os.read(self.PIPE[0], 4096):
                pass
        except OSError:
            pass

    def set_accepting(self, on: bool) -> None:
        """Watch the listeners or not (at the connection limit, or shutting down)."""
        if on == self.accepting:
            return
        self.accepting = on
        for listener in self.sockets:
            if on:
                self.sel.register(listener, selectors.EVENT_READ, listener)
            else:
                self.sel.unregister(listener)

    def accept(self, listener: socket.socket) -> None:
        """Take a few waiting connections (up to worker_connections open) and read each at once."""
        # a few, not all: under a steady stream the backlog never empties, and connections already accepted
        # but still sending wait for the loop's next turn (all of them did, for seconds, before this bound)
        for _ in range(ACCEPT_BATCH):
            if len(self.conns) >= self.cfg.worker_connections or not self.alive:
                break
            try:
                sock, addr = listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self.log.warning("accept failed: %s; accepting again once a connection closes", exc)
                    self.set_accepting(False)
                elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    self.log.warning("accept failed: %s", exc)
                return
            sock.setblocking(False)
            conn = Pending(sock, addr, listener, time.monotonic() + self.read_timeout)
            self.conns[sock.fileno()] = conn
            self.read_guarded(conn)   # the request has often arrived with the connection: no need to watch it
        self.set_accepting(len(self.conns) < self.cfg.worker_connections)

    def read_guarded(self, conn: Pending) -> None:
        """`readable`, where a bug costs one connection, not every buffered one."""
        try:
            self.readable(conn)
        except Exception:
            self.log.exception("web worker: dropping a connection after an error")
            self.close(conn)

    def readable(self, conn: Pending) -> None:
        """Read what the client sent; serve its request once complete."""
        held = len(conn.buf)
        if held >= SMALL and self.buffered >= self.budget and not conn.lingering:
            self.watch(conn, False)    # over the memory budget: resumed when another buffer is freed
            self.paused.append(conn)
            return
        want = conn.body_start + conn.length - held if conn.length >= 0 and held >= SMALL else 0
        try:
            data = conn.sock.recv(min(max(want, SMALL), 1 << 20))
        except (BlockingIOError, InterruptedError):
            self.watch(conn)
            return
        except OSError:
            data = b""
        if conn.lingering:
            conn.drained += len(data)
            if not data or conn.drained > MAX_DRAIN:
                self.close(conn)
            return
        if not data:
            self.close(conn)
            return
        conn.buf += data
        self.buffered += len(data)
        found = conn.check(self.limits)
        if found is None:
            self.watch(conn)
        else:
            self.serve(conn, found)

    def watch(self, conn: Pending, on: bool = True) -> None:
        """Have the selector report the connection readable (or stop)."""
        if conn.watched != on:
            conn.watched = on
            if on:
                self.sel.register(conn.sock, selectors.EVENT_READ, conn)
            else:
                self.sel.unregister(conn.sock)

    def serve(self, conn: Pending, found: Any) -> None:
        """Run the app on one buffered request in this thread; write the answer (bounded) and close."""
        sock, req = conn.sock, None
        self.watch(conn, False)
        sock.settimeout(self.read_timeout)   # writing the answer: a client that does not read gets this long
        try:
            if found is TOO_LARGE:
                util.write_error(sock, 413, "Request Entity Too Large", "")
            else:
                req = found if found is not HANDOFF else conn.request(self.cfg, trial=False)[0]
                if conn.continued:
                    req._expected_100_continue = False
                self.handle_request(conn.listener, req, sock, conn.addr)
        except (NoMoreData, StopIteration):
            pass
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as exc:
            self.handle_error(req, sock, conn.addr, exc)
        if conn.whole():
            self.close(conn)   # all it sent was read: a plain close sends FIN, no reset
        else:
            self.linger(conn)

    def linger(self, conn: Pending) -> None:
        """Send FIN and read what the client still sends (RFC 9112 9.6) without blocking, then close."""
        self.free(conn)
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            self.close(conn)
            return
        conn.lingering, conn.deadline = True, time.monotonic() + LINGER
        self.watch(conn)

    def expire(self, now: float) -> None:
        """Close connections past their deadline: a request not sent in time, or a close not acknowledged."""
        for conn in [c for c in self.conns.values() if c.deadline < now]:
            self.close(conn)

    def free(self, conn: Pending) -> None:
        """Drop a connection's buffer; let paused connections read again while the budget allows."""
        self.buffered -= len(conn.buf)
        conn.buf = bytearray()
        if self.buffered < self.budget:  # watch() buffers nothing: every paused connection may read again
            for waiting in reversed(self.paused):
                if waiting.sock.fileno() >= 0:
                    self.watch(waiting)
            self.paused.clear()

    def close(self, conn: Pending) -> None:
        """Forget a connection and close its socket."""
        sock = conn.sock
        self.conns.pop(sock.fileno(), None)
        self.watch(conn, False)
        self.free(conn)
        sock.close()
        if self.alive:
            self.set_accepting(len(self.conns) < self.cfg.worker_connections)
