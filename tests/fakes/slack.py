"""FakeSlack: a real HTTP server on 127.0.0.1 that speaks enough of Slack's Web API for tests and benches.

    with FakeSlack(token="xoxb-test") as slack:
        settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.url)
        ...
        assert slack.calls("chat.postMessage")[0].params["channel"] == "#oncall"

Implements `chat.postMessage` (threads: `thread_ts` must name an existing message, else `thread_not_found`),
`chat.update` (unknown ts → `message_not_found`), `users.lookupByEmail` (GET; `add_user(email, id)`, unknown
→ `users_not_found`) and incoming webhooks (`POST /webhook/<anything>`).
Every call is recorded (thread-safe). Script failures with `fail_next`, `rate_limit_next`, `error_next`;
`error_on(method, code)` fails only one method's next calls (e.g. `chat.update` → `cant_update_message`);
`delete(channel, ts)` removes a message as a user would; `top_level()` and `replies(ts)` show the threads.
`delay` slows every answer. Channels are answered by id: `#oncall` → `C` + a stable id.

`FakeSlack(rate=SLACK_RATE)` enforces Slack's per-channel rate for `chat.postMessage` as Slack documents it
(a short burst, then about one message per second): a token bucket per channel of `burst` messages refilled at
`per_second`; a post beyond it answers HTTP 429 `{"ok": false, "error": "ratelimited"}` with `Retry-After: 1`
and posts nothing. `rate_limited()` lists the calls so refused.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.server import LocalServer


@dataclass
class Call:
    """One request FakeSlack received."""

    method: str                     # "chat.postMessage", "chat.update" or "webhook"
    params: dict[str, Any]          # JSON body or form fields (blocks decoded from JSON when sent as a form)
    headers: dict[str, str]
    path: str
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Rate:
    """A per-channel rate for chat.postMessage: `burst` at once, then `per_second`."""

    burst: int = 5
    per_second: float = 1.0


SLACK_RATE = Rate()   # what Slack allows per channel: "1 message per second, short bursts allowed"


@dataclass
class _Script:
    status: int
    error: str | None = None
    retry_after: float | None = None


class FakeSlack(LocalServer):
    """A scripted fake of Slack's Web API and incoming webhooks (see module docstring)."""

    name = "FakeSlack"

    def __init__(self, token: str = "xoxb-fake-token", delay: float = 0.0, rate: Rate | None = None) -> None:
        self.token = token
        self.delay = delay
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}          # channel id -> (tokens, at)
        self._limited: list[Call] = []
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._script: list[_Script] = []
        self._method_script: dict[str, list[str]] = {}               # method -> error codes for its next calls
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}   # (channel id, ts) -> message
        self._ts = 1700000000_000100
        self._users: dict[str, str] = {}                              # email -> user id
        self._serve(self._handler())

    @property
    def url(self) -> str:
        """Base URL for SLACK_API_URL (trailing slash included)."""
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        """An incoming-webhook URL this fake accepts."""
        return f"http://127.0.0.1:{self.port}/webhook/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

    # -- scripting ---------------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` requests answer HTTP `status` with a non-JSON body."""
        self._push(n, _Script(status))

    def rate_limit_next(self, n: int = 1, retry_after: float = 2) -> None:
        """The next `n` requests answer 429 with `Retry-After: retry_after`."""
        self._push(n, _Script(429, "ratelimited", retry_after))

    def error_next(self, n: int = 1, error: str = "channel_not_found") -> None:
        """The next `n` requests answer 200 `{"ok": false, "error": error}` (webhooks: 404 with the code)."""
        self._push(n, _Script(200, error))

    def error_on(self, method: str, error: str, n: int = 1) -> None:
        """The next `n` calls of `method` (e.g. "chat.update") answer `{"ok": false, "error": error}`."""
        with self._lock:
            self._method_script.setdefault(method, []).extend([error] * n)

    def add_user(self, email: str, user_id: str) -> None:
        """A workspace member `users.lookupByEmail` finds by `email`."""
        with self._lock:
            self._users[email.lower()] = user_id

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message (by channel name or id), as a user deleting the card would."""
        with self._lock:
            self._messages.pop((self.channel_id(channel), ts), None)

    def _push(self, n: int, script: _Script) -> None:
        with self._lock:
            self._script.extend([script] * n)

    # -- inspection --------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call (or those of one method), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def rate_limited(self) -> list[Call]:
        """The calls refused with 429 by the rate-enforcing mode, oldest first."""
        with self._lock:
            return list(self._limited)

    def messages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The messages as they stand now, keyed by (channel id, ts)."""
        with self._lock:
            return dict(self._messages)

    def top_level(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages shown in the channel: not in a thread, or broadcast from one; oldest first."""
        cid = self.channel_id(channel) if channel else None
        return [m for (c, _), m in sorted(self.messages().items(), key=lambda kv: float(kv[0][1]))
                if (cid is None or c == cid) and (not m.get("thread_ts") or m.get("reply_broadcast"))]

    def replies(self, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of the message `ts`, oldest first."""
        return [m for _, m in sorted(self.messages().items(), key=lambda kv: float(kv[0][1]))
                if m.get("thread_ts") == ts]

    def reset(self) -> None:
        """Forget calls, messages and scripted failures."""
        with self._lock:
            self._calls.clear(), self._messages.clear(), self._script.clear(), self._method_script.clear()
            self._buckets.clear(), self._limited.clear()

    @staticmethod
    def channel_id(channel: str) -> str:
        """The id this fake gives a channel name (ids pass through)."""
        if channel[:1] in ("C", "G", "D") and channel[1:].isalnum() and channel.isupper():
            return channel
        return "C" + format(zlib.crc32(channel.encode()), "08X")

    # -- the API -----------------------------------------------------------------------------
    def _answer(self, call: Call) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._calls.append(call)
            script = self._script.pop(0) if self._script else None
            queued = self._method_script.get(call.method)
            if script is None and queued:
                script = _Script(200, queued.pop(0))
        if script is not None:
            return self._scripted(call, script)
        if call.method == "webhook":
            return 200, {"Content-Type": "text/plain"}, b"ok"
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return self._json({"ok": False, "error": "invalid_auth" if "authorization" in call.headers
                               else "not_authed"})
        if call.method == "chat.postMessage" and not self._take(call):
            status, hdrs, body = self._json({"ok": False, "error": "ratelimited"})
            return 429, {**hdrs, "Retry-After": "1"}, body
        handler = {"chat.postMessage": self._post, "chat.update": self._update,
                   "users.lookupByEmail": self._lookup}.get(call.method)
        return self._json(handler(call.params) if handler else {"ok": False, "error": "unknown_method"})

    def _take(self, call: Call) -> bool:
        """Take one message from the channel's bucket (always True without a rate); False (recorded) if empty."""
        if self.rate is None:
            return True
        cid = self.channel_id(str(call.params.get("channel") or ""))
        with self._lock:
            tokens, at = self._buckets.get(cid, (float(self.rate.burst), call.time))
            tokens = min(float(self.rate.burst), tokens + max(0.0, call.time - at) * self.rate.per_second)
            if tokens < 1.0:
                self._buckets[cid] = (tokens, call.time)
                self._limited.append(call)
                return False
            self._buckets[cid] = (tokens - 1.0, call.time)
            return True

    def _scripted(self, call: Call, s: _Script) -> tuple[int, dict[str, str], bytes]:
        headers = {"Retry-After": f"{s.retry_after:g}"} if s.retry_after is not None else {}
        if s.status >= 500:
            return s.status, {"Content-Type": "text/html"}, b"<html>upstream error</html>"
        if call.method == "webhook":
            return (s.status if s.status != 200 else 404), {"Content-Type": "text/plain", **headers}, \
                (s.error or "error").encode()
        status, hdrs, body = self._json({"ok": False, "error": s.error})
        return s.status, {**hdrs, **headers}, body

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 100
            return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _post(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            return {"ok": False, "error": "no_text"}
        cid = self.channel_id(channel)
        thread_ts = p.get("thread_ts")
        if thread_ts and (cid, str(thread_ts)) not in self.messages():
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        message = {"type": "message", "text": p.get("text", ""), "blocks": p.get("blocks"), "ts": ts,
                   "bot_id": "B0FAKE", **({"thread_ts": str(thread_ts)} if thread_ts else {}),
                   **({"reply_broadcast": True} if thread_ts and _truthy(p.get("reply_broadcast")) else {})}
        with self._lock:
            self._messages[(cid, ts)] = message
        return {"ok": True, "channel": cid, "ts": ts, "message": message}

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        cid, ts = self.channel_id(str(p.get("channel") or "")), str(p.get("ts") or "")
        with self._lock:
            message = self._messages.get((cid, ts))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.update(text=p.get("text", message["text"]), blocks=p.get("blocks", message["blocks"]))
        return {"ok": True, "channel": cid, "ts": ts, "text": message["text"], "message": message}

    def _lookup(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            user_id = self._users.get(str(p.get("email") or "").lower())
        if user_id is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user_id, "profile": {"email": p.get("email")}}}

    @staticmethod
    def _json(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                params = _decode(raw, headers.get("content-type", ""))
                method = "webhook" if self.path.startswith("/webhook/") else self.path.split("?")[0].rsplit("/", 1)[-1]
                if fake.delay:
                    time.sleep(fake.delay)
                status, out_headers, body = fake._answer(Call(method, params, headers, self.path))
                self.send_response(status)
                for key, value in {**out_headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # slack-sdk sends users.lookupByEmail as a GET
                path, _, query = self.path.partition("?")
                headers = {k.lower(): v for k, v in self.headers.items()}
                if fake.delay:
                    time.sleep(fake.delay)
                status, out_headers, body = fake._answer(Call(path.rsplit("/", 1)[-1], dict(parse_qsl(query)),
                                                              headers, self.path))
                self.send_response(status)
                for key, value in {**out_headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _truthy(value: Any) -> bool:
    """A Slack boolean argument: JSON true, or "true"/"1" in a form."""
    return value is True or str(value).lower() in ("true", "1")


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            body = json.loads(raw or b"{}")
            return body if isinstance(body, dict) else {"_": body}
        except json.JSONDecodeError:
            return {"_raw": raw.decode("utf-8", "replace")}
    params: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8", "replace")))
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(params[key])
    return params
