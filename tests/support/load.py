"""Load and fault helpers: many signed webhooks from many kept-alive connections, with per-request timing."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from router.sentry.verify import sign
from tests.conftest import SECRET
from tests.fakes.slack import FakeSlack
from tests.support.procs import issue_body

TITLE = re.compile(r"load-(\d{5})-x")


@dataclass
class Attempt:
    """One POST: HTTP status (0 when the connection failed), seconds taken, the duplicate flag, the error."""

    status: int
    seconds: float
    duplicate: bool = False
    error: str = ""


@dataclass
class Outcome:
    """Every attempt made for webhook number `n`, oldest first."""

    n: int
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> Attempt:
        """The last attempt (the one the client stopped on)."""
        return self.attempts[-1]


class Client:
    """One kept-alive connection to 127.0.0.1:port (reopened after a failure), like one Sentry sender."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, resource: str = "issue") -> Attempt:
        """POST one signed webhook once; connection errors come back as status 0."""
        headers = {"Content-Type": "application/json", "Sentry-Hook-Resource": resource,
                   "Sentry-Hook-Signature": sign(body, SECRET), "Request-ID": uuid.uuid4().hex}
        start = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request("POST", "/sentry/webhook", body=body, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            return Attempt(0, time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
        answer = json.loads(raw) if resp.status == 202 else {}
        return Attempt(resp.status, time.perf_counter() - start, bool(answer.get("duplicate")))

    def close(self) -> None:
        """Drop the connection."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def post_all(port: int | Callable[[], int], numbers: Iterable[int], connections: int = 50,
             retry_until: float = 0.0, pause: Callable[[int], None] | None = None) -> list[Outcome]:
    """POST issue_body(n) for each n from `connections` threads; retry non-202s for up to `retry_until` s each."""
    todo = list(numbers)
    outcomes = {n: Outcome(n) for n in todo}
    bodies = {n: issue_body(n) for n in todo}  # built up front: the clients only send
    port_of = port if callable(port) else (lambda: port)
    lock = threading.Lock()

    def run(k: int) -> None:
        client = Client(port_of())
        for n in todo[k::connections]:
            if pause:
                pause(n)
            deadline = time.monotonic() + retry_until
            while True:
                attempt = client.post(bodies[n])
                with lock:
                    outcomes[n].attempts.append(attempt)
                if attempt.status == 202 or time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
                client.port = port_of()
        client.close()

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(run, range(connections)))
    return [outcomes[n] for n in todo]


def slack_titles(slack: FakeSlack, method: str | None = None) -> Counter[int]:
    """How many times FakeSlack received each load-NNNNN-x webhook number (per method when given)."""
    return Counter(int(m.group(1)) for c in slack.calls(method)
                   if (m := TITLE.search(str(c.params.get("text")))))


def posted_messages(slack: FakeSlack) -> Counter[int]:
    """How many messages FakeSlack holds (successful posts) for each webhook number."""
    return Counter(int(m.group(1)) for msg in slack.messages().values()
                   if (m := TITLE.search(str(msg.get("text")))))


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def gunicorn_workers(master_pid: int) -> list[int]:
    """Pids of the gunicorn master's worker processes (Linux /proc)."""
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []
