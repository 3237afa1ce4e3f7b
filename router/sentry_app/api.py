"""A small client of Sentry's web API: JSON over HTTPS with a bearer token and a short timeout.

Errors never carry a token: what Sentry answers is cut short and masked, and tokens travel only in headers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from router.masking import mask, one_line

USER_AGENT = "sentry-router"
MAX_ANSWER = 1 << 20   # an issue's details are a few kB; never read an unbounded answer


class ApiError(Exception):
    """A call failed: `status` is the HTTP status (0 when Sentry could not be reached)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class SentryApi:
    """Calls `{base}/api/0/…`; one instance per process, safe to share between threads (it keeps no state)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def call(self, method: str, path: str, token: str | None = None, body: Any = None,
             secrets: Iterable[str] = ()) -> Any:
        """The JSON answer of `method path`; raise ApiError (any secret in `secrets` or `token` masked)."""
        hidden = [s for s in (token, *secrets) if s]
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read(MAX_ANSWER)
        except urllib.error.HTTPError as exc:
            text = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
            raise ApiError(exc.code, f"Sentry API {method} {path}: HTTP {exc.code} "
                                     f"{one_line(mask(text, hidden))[:200]}".rstrip()) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            raise ApiError(0, f"Sentry API {method} {path}: cannot reach {self.base_url}: "
                              f"{one_line(mask(str(why), hidden))}") from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise ApiError(200, f"Sentry API {method} {path}: answer is not JSON") from None
