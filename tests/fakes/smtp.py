"""FakeSMTP: an aiosmtpd server on 127.0.0.1 (a free port) that keeps every message it receives.

    with FakeSMTP() as smtp:
        settings = Settings(smtp_url=smtp.url)
        ...
        msg = smtp.messages[0]           # email.message.EmailMessage
        msg.get_body(("html",)).get_content()
"""

from __future__ import annotations

import email
import socket
import threading
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Collector:
    def __init__(self, owner: FakeSMTP) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.owner._lock:
            self.owner._messages.append(msg)
            self.owner._envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeSMTP:
    """A local SMTP server collecting parsed messages; `.url` is `smtp://127.0.0.1:PORT`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._envelopes: list[tuple[str, list[str]]] = []
        self._controller: Controller | None = None
        self.port = 0

    def start(self) -> FakeSMTP:
        """Start on a free port (retrying if another process grabs it first)."""
        for _ in range(5):
            self.port = _free_port()
            controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)
            try:
                controller.start()
            except OSError:
                continue
            self._controller = controller
            return self
        raise RuntimeError("FakeSMTP: no free port")

    def stop(self) -> None:
        """Stop the server."""
        if self._controller:
            self._controller.stop()

    def __enter__(self) -> FakeSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """SMTP_URL for this server (plain SMTP, no auth)."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """Messages received so far, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        """(MAIL FROM, RCPT TO list) of each message received."""
        with self._lock:
            return list(self._envelopes)
