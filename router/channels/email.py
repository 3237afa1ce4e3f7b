"""An `email` target: SMTP with the standard library, a text part from our text and an HTML part from our HTML.

Apprise's email derives the text part from the HTML (no link, not what `test` shows), so email is sent here:
one message per recipient, `multipart/alternative` when the template gives HTML.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from router.channels.base import DeliveryError, Receipt
from router.channels.one_message import OneMessage
from router.masking import mask, url_secrets
from router.render import Message

TIMEOUT = 30
_PORTS = {"smtp": 25, "smtps": 465, "starttls": 587}
# the prefix the shipped email templates start a subject with; a target's subject_prefix replaces it
DEFAULT_PREFIX = "[Sentry]"
_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")


@dataclass(frozen=True)
class SmtpServer:
    """SMTP_URL, parsed: how to connect and log in."""

    mode: str                 # "smtp" (plain), "smtps" (implicit TLS) or "starttls"
    host: str
    port: int
    user: str = ""
    password: str = ""


def parse_smtp_url(smtp_url: str) -> SmtpServer:
    """`smtp://[user:pass@]host[:port]`, `smtps://…` or `starttls://…`; ValueError saying the expected form."""
    parts = urlsplit(smtp_url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in _PORTS or not parts.hostname or port == -1:
        raise ValueError("SMTP_URL must look like smtp://[user:pass@]host[:port] (or smtps://, starttls://)")
    return SmtpServer(parts.scheme, parts.hostname, port or _PORTS[parts.scheme],
                      unquote(parts.username or ""), unquote(parts.password or ""))


def subject(title: str, prefix: str) -> str:
    """One line; the target's prefix in place of the default `[Sentry]`, so prefixes never stack."""
    line = _BREAKS.sub(" ", title).strip()
    if prefix:
        if line.startswith(DEFAULT_PREFIX):
            line = line[len(DEFAULT_PREFIX):].lstrip()
        line = f"{prefix} {line}"
    return line


def build_email(message: Message, sender: str, recipient: str, prefix: str) -> EmailMessage:
    """The email for one recipient: the text part from `message.text`, an HTML alternative from `message.html`."""
    mail = EmailMessage()
    mail["Subject"] = subject(message.title, prefix)
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.text or message.title or " ")
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


class EmailChannel(OneMessage):
    """An `email` target: SMTP_URL, EMAIL_FROM, the target's `to` and optional `subject_prefix`."""

    type = "email"

    def __init__(self, to: Sequence[str], smtp_url: str | None, email_from: str, subject_prefix: str = "") -> None:
        self.to = list(to)
        self.subject_prefix = subject_prefix.strip()
        self.smtp_url = smtp_url
        self.email_from = email_from
        self._secrets = url_secrets(smtp_url) if smtp_url else []

    def problem(self) -> str | None:
        """Why this channel cannot deliver, found without sending anything; None when it may."""
        if not self.smtp_url:
            return "SMTP_URL is not set"
        try:
            parse_smtp_url(self.smtp_url)
        except ValueError as exc:
            return str(exc)
        return None if self.to else "email target has no `to` address"

    def send(self, message: Message) -> Receipt:
        """Email `message` to every recipient, one message each, over one connection."""
        why = self.problem()
        if why:
            raise DeliveryError(why, retryable=False)
        assert self.smtp_url is not None
        server = parse_smtp_url(self.smtp_url)
        try:
            with _connect(server) as smtp:
                for recipient in self.to:
                    smtp.send_message(build_email(message, self.email_from, recipient, self.subject_prefix),
                                      self.email_from, [recipient])
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"SMTP {server.host}:{server.port}: {exc}"
            raise DeliveryError(mask(reason, self._secrets + [server.password])[:1000], retryable=True) from None
        return {"to": self.to, "sent": len(self.to)}


def _connect(server: SmtpServer) -> smtplib.SMTP:
    """An SMTP session, TLS as the URL says (certificates verified), logged in when it names a user."""
    context = ssl.create_default_context()
    if server.mode == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    try:
        if server.mode == "starttls":
            smtp.starttls(context=context)
        if server.user:
            smtp.login(server.user, server.password)
    except BaseException:
        smtp.close()
        raise
    return smtp
