"""HttpSink: an HTTP server on 127.0.0.1 that records every request (JSON bodies decoded).

For Apprise `json://127.0.0.1:PORT/path` targets:

    with HttpSink() as sink:
        AppriseChannel([sink.apprise_url("hook")]).send(message)
        sink.requests[0].json["title"]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.server import LocalServer


@dataclass
class Request:
    """One request the sink received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body or b"null")


class HttpSink(LocalServer):
    """Records requests; answers `status` (default 200) to each, or scripted statuses via `fail_next`."""

    name = "HttpSink"

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._script: list[int] = []
        self._serve(self._handler())

    def url(self, path: str = "") -> str:
        """An http:// URL on this sink."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def apprise_url(self, path: str = "hook") -> str:
        """An Apprise `json://` URL that posts to this sink."""
        return f"json://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` requests with `status`."""
        with self._lock:
            self._script.extend([status] * n)

    @property
    def requests(self) -> list[Request]:
        """Requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def _record(self, req: Request) -> int:
        with self._lock:
            self._requests.append(req)
            return self._script.pop(0) if self._script else self.status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = sink._record(Request(self.command, self.path,
                                              {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _any

        return Handler
