"""The web half under slow clients: a real gunicorn with the router's worker class and read deadline."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONSOLE_RULES, SECRET, free_port, signed_headers
from tests.support.procs import stop_group

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

READ_TIMEOUT = 2


def start_web(tmp: Path, read_timeout: float = READ_TIMEOUT) -> tuple[subprocess.Popen[bytes], int]:
    """`sentry-router web` with ONE process on 127.0.0.1 and the given read deadline, once it answers: (proc, port)."""
    (tmp / "rules.yaml").write_text(CONSOLE_RULES)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "ROUTER_", "PROMETHEUS_", "REDIS_"))}
    env.update(SENTRY_CLIENT_SECRET=SECRET, ROUTER_RULES=str(tmp / "rules.yaml"), ROUTER_DB=str(tmp / "r.sqlite3"),
               ROUTER_TEMPLATES=str(tmp / "tpl"), PORT=str(port), ROUTER_READ_TIMEOUT=str(read_timeout))
    proc = subprocess.Popen([sys.executable, "-m", "router", "web", "--host", "127.0.0.1", "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_group(proc)
            raise AssertionError("gunicorn did not come up")
        try:   # answered: a worker runs (a bare connect would only reach the master's backlog)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/-/healthy")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[int]:
    """`sentry-router web` with ONE process on 127.0.0.1 and a 2 s read deadline; its port."""
    proc, port = start_web(tmp_path_factory.mktemp("serving"))
    try:
        yield port
    finally:
        stop_group(proc)


def slowloris(port: int, stop: threading.Event, every: float = 0.3) -> int:
    """Trickle header lines on fresh connections until `stop`; how many connections the server closed."""
    closed = 0
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"POST /sentry/webhook HTTP/1.1\r\nHost: x\r\n")
                n = 0
                while not stop.wait(every):
                    s.sendall(b"X-Slow-%d: a\r\n" % n)
                    n += 1
        except OSError:
            closed += 1
    return closed


def post(port: int, body: bytes = b'{"action": "created", "data": {"issue": {"id": "7"}}}') -> int:
    """Status of one signed webhook, waiting up to 10 s for the answer: less than gunicorn's 30 s worker timeout,
    which would otherwise free a blocked server by killing it (a hang guard, not a speed target)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/sentry/webhook", body=body, headers=signed_headers("issue", body, SECRET))
        return conn.getresponse().status
    finally:
        conn.close()


def test_slow_clients_do_not_stop_ingest(web: int) -> None:
    """With 8 connections trickling headers into one web process, signed webhooks still get their 202."""
    stop = threading.Event()
    attackers = [threading.Thread(target=slowloris, args=(web, stop), daemon=True) for _ in range(8)]
    for t in attackers:
        t.start()
    try:
        time.sleep(0.5)
        assert [post(web) for _ in range(3)] == [202, 202, 202]
    finally:
        stop.set()
        for t in attackers:
            t.join(10)


def test_a_slow_client_is_cut_off_at_the_read_deadline(web: int) -> None:
    """A client still sending headers after ROUTER_READ_TIMEOUT has its connection closed (not held forever)."""
    with socket.create_connection(("127.0.0.1", web), timeout=READ_TIMEOUT * 10) as s:
        s.sendall(b"POST /sentry/webhook HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for sent in range(100):          # 20 s: far past the 2 s deadline, short of gunicorn's 30 s worker timeout
            time.sleep(0.2)
            try:
                s.sendall(b"X-Slow-%d: a\r\n" % sent)
                closed = s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
            except BlockingIOError:
                continue                 # nothing from the server yet: still open
            except OSError:
                closed = True
            if closed:
                break
    assert closed


def test_a_stalled_body_gets_an_answer_and_frees_the_thread(web: int) -> None:
    """A body that stops arriving is answered (4xx or closed) after the deadline, and the server serves on."""
    with socket.create_connection(("127.0.0.1", web), timeout=READ_TIMEOUT * 10) as s:
        s.sendall(b"POST /sentry/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        answer = s.recv(200)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4")), answer
    assert post(web) == 202


BODY = b'{"action": "created", "data": {"issue": {"id": "8"}}}'


def _raw(port: int, pieces: list[bytes], pause: float = 0.2) -> bytes:
    """Send a request in pieces with pauses between them; the whole answer (until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT * 5) as s:
        for piece in pieces:
            s.sendall(piece)
            time.sleep(pause)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    return answer


def _head(extra: str) -> bytes:
    sig = signed_headers("issue", BODY)["Sentry-Hook-Signature"]
    return (f"POST /sentry/webhook HTTP/1.1\r\nHost: x\r\nSentry-Hook-Resource: issue\r\n"
            f"Sentry-Hook-Signature: {sig}\r\n{extra}\r\n").encode()


SPLIT = [
    ("head and body apart", [_head(f"Content-Length: {len(BODY)}\r\n"), BODY[:10], BODY[10:]]),
    ("byte by byte head", [bytes([b]) for b in _head(f"Content-Length: {len(BODY)}\r\n")] + [BODY]),
    ("chunked in pieces", [_head("Transfer-Encoding: chunked\r\n"), b"%x\r\n" % len(BODY), BODY + b"\r\n",
                           b"0\r\n", b"\r\n"]),
    ("chunked with a trailer", [_head("Transfer-Encoding: chunked\r\n") + b"%x\r\n" % len(BODY) + BODY,
                                b"\r\n0\r\nX-Trailer: 1\r\n\r\n"]),
]


@pytest.mark.parametrize("case, pieces", SPLIT, ids=[c[0] for c in SPLIT])
def test_a_request_arriving_in_pieces_is_served_once_whole(web: int, case: str, pieces: list[bytes]) -> None:
    """Heads and bodies (Content-Length or chunked) split across many packets are buffered and answered 202."""
    pause = 0.002 if len(pieces) > 20 else 0.2
    assert _raw(web, pieces, pause).startswith(b"HTTP/1.1 202"), case


def test_expect_100_continue_is_answered_before_the_body(web: int) -> None:
    """A client that waits for 100 Continue before sending its body gets it, then its 202."""
    with socket.create_connection(("127.0.0.1", web), timeout=5) as s:
        s.sendall(_head(f"Content-Length: {len(BODY)}\r\nExpect: 100-continue\r\n"))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(BODY)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202"), answer
    assert b"100 Continue" not in answer


def test_many_idle_and_half_sent_connections_do_not_delay_a_webhook(web: int) -> None:
    """200 open connections (idle, half a head, half a body) in one single-threaded process: a webhook gets 202."""
    held = []
    try:
        for n in range(200):
            s = socket.create_connection(("127.0.0.1", web), timeout=5)
            s.sendall([b"", b"POST /sentry/webhook HTTP/1.1\r\nHo", _head("Content-Length: 500\r\n") + b"{"][n % 3])
            held.append(s)
        start = time.monotonic()
        assert post(web) == 202
        assert time.monotonic() - start < READ_TIMEOUT   # a hang guard: served before any of them timed out
    finally:
        for s in held:
            s.close()


def test_a_client_that_never_reads_its_answer_does_not_hold_the_process(web: int) -> None:
    """Complete requests whose senders neither read nor close do not stop the next webhook."""
    held = []
    try:
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", web), timeout=5)
            s.sendall(_head(f"Content-Length: {len(BODY)}\r\n") + BODY)
            held.append(s)
        assert post(web) == 202
    finally:
        for s in held:
            s.close()


def test_a_request_still_arriving_at_shutdown_is_finished(tmp_path: Path) -> None:
    """SIGTERM stops accepting, but a request whose body is still arriving is read to its end and answered."""
    proc, port = start_web(tmp_path, read_timeout=5)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(_head(f"Content-Length: {len(BODY)}\r\n") + BODY[:10])
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            s.sendall(BODY[10:])
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 202"), answer
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            stop_group(proc)
