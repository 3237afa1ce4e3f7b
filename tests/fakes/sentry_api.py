"""FakeSentryAPI: a real HTTP server on 127.0.0.1 speaking the parts of Sentry's web API a Sentry app uses.

    with FakeSentryAPI(client_id="cid", client_secret=SECRET) as sentry:
        sentry.install(uuid, code="grant-code")           # installation.created will carry this code
        sentry.add_issue("1234", {"title": …, "shortId": …, "permalink": …, "assignedTo": {…}})
        settings = Settings(sentry_api_url=sentry.url, sentry_client_id="cid", …)

Implements (as backend-py of getsentry/integration-platform-example uses them):
- `POST /api/0/sentry-app-installations/{uuid}/authorizations/`: `grant_type` `authorization_code` (the code
  works once) or `refresh_token` (the refresh token works once) with the right client id and secret →
  `{"token", "refreshToken", "expiresAt"}`; a revoked installation or a wrong code → 401.
- `PUT /api/0/sentry-app-installations/{uuid}/` `{"status": "installed"}` with its bearer token.
- `GET /api/0/organizations/{org}/issues/{id}/` and `GET /api/0/issues/{id}/`: a registered issue for a live
  token (expired or revoked → 401, unknown issue → 404).
Scripting: `delay` (seconds before each answer), `down` (every answer 503), `expire_tokens()` (every token
issued so far is refused: the 401 path), `revoke(uuid)`, `token_ttl` (seconds of life of the next tokens).
Every request is recorded in `calls` (method, path, JSON body, headers).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.server import LocalServer

_AUTH = re.compile(r"^/api/0/sentry-app-installations/(?P<uuid>[^/]+)/authorizations/$")
_INSTALL = re.compile(r"^/api/0/sentry-app-installations/(?P<uuid>[^/]+)/$")
_ISSUE = re.compile(r"^/api/0/(?:organizations/(?P<org>[^/]+)/)?issues/(?P<id>[^/]+)/$")


@dataclass
class ApiCall:
    """One request the fake received."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    time: float = field(default_factory=time.time)


class FakeSentryAPI(LocalServer):
    """A scripted fake of Sentry's API for installations and issues (see module docstring)."""

    name = "FakeSentryAPI"

    def __init__(self, client_id: str = "fake-client-id", client_secret: str = "test-client-secret",
                 delay: float = 0.0) -> None:
        self.client_id, self.client_secret, self.delay = client_id, client_secret, delay
        self.down = False
        self.token_ttl = 8 * 3600.0
        self._lock = threading.Lock()
        self.calls: list[ApiCall] = []
        self._codes: dict[str, str] = {}          # uuid -> unused grant code
        self._refresh: dict[str, str] = {}        # refresh token -> uuid
        self._tokens: dict[str, tuple[str, float]] = {}   # token -> (uuid or "*", expires at)
        self._revoked: set[str] = set()
        self.installed: set[str] = set()
        self.issues: dict[str, dict[str, Any]] = {}
        self._issued: list[str] = []              # every token and refresh token ever handed out
        self._serve(self._handler())

    @property
    def url(self) -> str:
        """Base URL for SENTRY_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ---------------------------------------------------------------------------
    def install(self, uuid: str, code: str) -> None:
        """An installation whose grant code `code` can be exchanged once."""
        with self._lock:
            self._codes[uuid] = code

    def static_token(self, token: str) -> None:
        """A token that never expires and reads every issue (an internal integration's)."""
        with self._lock:
            self._tokens[token] = ("*", float("inf"))

    def add_issue(self, issue_id: str, details: dict[str, Any]) -> None:
        """What GET …/issues/{issue_id}/ answers."""
        with self._lock:
            self.issues[str(issue_id)] = {"id": str(issue_id), **details}

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401)."""
        with self._lock:
            self._tokens = {t: (u, e) for t, (u, e) in self._tokens.items() if u == "*"}

    def revoke(self, uuid: str) -> None:
        """The installation is uninstalled: its tokens and refresh tokens are refused."""
        with self._lock:
            self._revoked.add(uuid)

    def requests(self, kind: str) -> list[ApiCall]:
        """Recorded calls of one kind: "authorizations", "confirm" or "issue"."""
        pattern = {"authorizations": _AUTH, "confirm": _INSTALL, "issue": _ISSUE}[kind]
        with self._lock:
            return [c for c in self.calls if pattern.match(c.path.split("?")[0])]

    def issued_tokens(self) -> list[str]:
        """Every token and refresh token handed out so far, used or not (for secrets greps)."""
        with self._lock:
            return list(self._issued)

    # -- the API -----------------------------------------------------------------------------
    def _grant(self, uuid: str) -> dict[str, Any]:
        token, refresh = "sntrys_" + secrets.token_hex(16), "sntryr_" + secrets.token_hex(16)
        expires = time.time() + self.token_ttl
        self._tokens[token] = (uuid, expires)
        self._refresh[refresh] = uuid
        self._issued += [token, refresh]
        stamp = datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")
        return {"token": token, "refreshToken": refresh, "expiresAt": stamp}

    def _bearer(self, headers: dict[str, str], uuid: str | None = None) -> bool:
        token = headers.get("authorization", "").removeprefix("Bearer ")
        owner, expires = self._tokens.get(token, ("", 0.0))
        if not owner or expires < time.time() or owner in self._revoked:
            return False
        return uuid is None or owner in ("*", uuid)

    def _answer(self, call: ApiCall) -> tuple[int, Any]:
        path = call.path.split("?")[0]
        with self._lock:
            if self.down:
                return 503, {"detail": "service unavailable"}
            if (m := _AUTH.match(path)) and call.method == "POST":
                return self._authorize(m["uuid"], call.body if isinstance(call.body, dict) else {})
            if (m := _INSTALL.match(path)) and call.method == "PUT":
                if not self._bearer(call.headers, m["uuid"]):
                    return 401, {"detail": "Invalid token"}
                self.installed.add(m["uuid"])
                return 200, {"uuid": m["uuid"], "status": "installed", "app": {"slug": "sentry-router"}}
            if (m := _ISSUE.match(path)) and call.method == "GET":
                if not self._bearer(call.headers):
                    return 401, {"detail": "Invalid token"}
                issue = self.issues.get(m["id"])
                return (200, issue) if issue else (404, {"detail": "The requested resource does not exist"})
        return 404, {"detail": "not found"}

    def _authorize(self, uuid: str, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return 401, {"detail": "Invalid client"}
        if uuid in self._revoked:
            return 401, {"detail": "Installation revoked"}
        if body.get("grant_type") == "authorization_code":
            if not body.get("code") or self._codes.get(uuid) != body["code"]:
                return 401, {"detail": "Invalid grant"}
            del self._codes[uuid]
            return 201, self._grant(uuid)
        if body.get("grant_type") == "refresh_token":
            if self._refresh.pop(str(body.get("refresh_token")), None) != uuid:
                return 401, {"detail": "Invalid refresh token"}
            return 201, self._grant(uuid)
        return 400, {"detail": "Invalid grant_type"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve_one(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = ApiCall(self.command, self.path, body, headers)
                with fake._lock:
                    fake.calls.append(call)   # before the delay: a caller that gave up was still a call
                if fake.delay:
                    time.sleep(fake.delay)
                status, answer = fake._answer(call)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve_one

        return Handler
