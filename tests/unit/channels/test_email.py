"""Email channel (router/channels/email.py) against a local aiosmtpd server: subject, HTML and text parts, errors."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from router.channels import DeliveryError, build_channel
from router.channels.email import EmailChannel, SmtpServer, parse_smtp_url
from router.render import Renderer
from router.rules.model import Target
from router.settings import Settings
from tests.conftest import free_port
from tests.fakes.fixtures import fake_smtp  # noqa: F401  (fixture)
from tests.fakes.smtp import FakeSMTP, _Collector
from tests.support.render import HOSTILE_TITLE, hostile_issue, sample

TARGET = Target("team", "email", {"to": ("backend@example.com", "ops@example.com")})
RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")


def test_email_has_subject_html_and_text(fake_smtp: FakeSMTP) -> None:
    """Each recipient receives a multipart/alternative email: subject, a text part and an HTML part."""
    ch = build_channel(TARGET, Settings(smtp_url=fake_smtp.url, email_from="router@example.com"))
    msg = RENDERER.render(sample("issue.created"), TARGET)
    receipt = ch.send(msg)
    assert receipt["to"] == ["backend@example.com", "ops@example.com"]
    mails = fake_smtp.messages
    assert sorted(m["To"] for m in mails) == ["backend@example.com", "ops@example.com"]
    mail = mails[0]
    assert mail["Subject"] == msg.title and mail["From"] == "router@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "Open in Sentry" in html and "https://example-org.sentry.io/issues/1234567890/" in html
    assert "Error generated with event_id" in text and "<td" not in text


def test_text_part_is_our_text_with_the_link(fake_smtp: FakeSMTP) -> None:
    """The text part is the rendered text (what `test` previews), link included, not a conversion of the HTML."""
    ch = build_channel(TARGET, Settings(smtp_url=fake_smtp.url))
    msg = RENDERER.render(sample("issue.created"), TARGET)
    ch.send(msg)
    text = fake_smtp.messages[0].get_body(("plain",)).get_content()
    sent = [line.rstrip() for line in msg.text.strip().splitlines()]
    assert [line.rstrip() for line in text.strip().splitlines()] == sent
    assert "https://example-org.sentry.io/issues/1234567890/" in text


def test_hostile_title_is_escaped_in_email_html(fake_smtp: FakeSMTP) -> None:
    """Markup in a payload title arrives escaped in the HTML part and readable in the subject."""
    ch = build_channel(TARGET, Settings(smtp_url=fake_smtp.url))
    ch.send(RENDERER.render(hostile_issue(), TARGET))
    mail = fake_smtp.messages[0]
    assert HOSTILE_TITLE in mail["Subject"]
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("prefix, expected", [
    ("", "[Sentry] Issue resolved"),
    ("[prod]", "[prod] Issue resolved"),
    ("[backend] [Sentry]", "[backend] [Sentry] Issue resolved"),
])
def test_subject_prefix_replaces_the_default(fake_smtp: FakeSMTP, prefix: str, expected: str) -> None:
    """A target's subject_prefix takes the place of the default `[Sentry]`: one prefix, never two stacked."""
    target = Target("t", "email", {"to": ("a@example.com",), "subject_prefix": prefix})
    build_channel(target, Settings(smtp_url=fake_smtp.url)).send(RENDERER.render(sample("issue.resolved"), target))
    assert fake_smtp.messages[0]["Subject"].startswith(expected + ":") or fake_smtp.messages[0]["Subject"] == expected


def test_a_title_with_line_breaks_is_one_subject_line(fake_smtp: FakeSMTP) -> None:
    """Line breaks in a (payload-made) title cannot add headers: the subject is one line."""
    ch = build_channel(TARGET, Settings(smtp_url=fake_smtp.url))
    msg = RENDERER.render(sample("issue.created"), TARGET)
    ch.send(dataclasses.replace(msg, title="Boom\r\nBcc: victim@example.com\nX: y"))
    mail = fake_smtp.messages[0]
    assert mail["Subject"] == "Boom Bcc: victim@example.com X: y" and mail["Bcc"] is None


def test_login_with_the_url_credentials() -> None:
    """A user and password in SMTP_URL (percent-encoded) log in before sending."""
    seen: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    smtp = FakeSMTP()
    port = free_port()
    controller = Controller(_Collector(smtp), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        EmailChannel(["a@example.com"], f"smtp://u%40x:p%2Fw@127.0.0.1:{port}", "r@example.com").send(
            RENDERER.render(sample("issue.created"), TARGET))
    finally:
        controller.stop()
    assert seen == [("u@x", "p/w")] and len(smtp.messages) == 1


def test_smtp_connection_refused_is_retryable_and_masked() -> None:
    """An SMTP server that refuses connections gives a retryable error without the SMTP password."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ch = EmailChannel(["a@example.com"], f"smtp://mailer:hunter2-secret@127.0.0.1:{port}", "r@example.com")
    with pytest.raises(DeliveryError) as err:
        ch.send(RENDERER.render(sample("issue.created"), TARGET))
    assert err.value.retryable and "hunter2-secret" not in repr(err.value)
    assert "127.0.0.1" in err.value.reason


def test_missing_smtp_url_is_permanent() -> None:
    """Without SMTP_URL an email target fails permanently."""
    with pytest.raises(DeliveryError) as err:
        build_channel(TARGET, Settings()).send(RENDERER.render(sample("issue.created"), TARGET))
    assert (err.value.reason, err.value.retryable) == ("SMTP_URL is not set", False)


@pytest.mark.parametrize("smtp_url, server", [
    ("smtp://mail.example.com", SmtpServer("smtp", "mail.example.com", 25)),
    ("smtps://u%40x:p%2Fw@mail.example.com", SmtpServer("smtps", "mail.example.com", 465, "u@x", "p/w")),
    ("starttls://bob:pw@mail.example.com:2525", SmtpServer("starttls", "mail.example.com", 2525, "bob", "pw")),
])
def test_smtp_url_is_parsed(smtp_url: str, server: SmtpServer) -> None:
    """SMTP_URL gives the TLS mode, host, port (25, 465 or 587 by default) and the decoded credentials."""
    assert parse_smtp_url(smtp_url) == server


@pytest.mark.parametrize("smtp_url", ["mailto://x", "smtp://", "smtp://host:port", "host:25"])
def test_a_bad_smtp_url_is_permanent_and_says_the_form(smtp_url: str) -> None:
    """An SMTP_URL that is not smtp/smtps/starttls with a host fails permanently, saying the expected form."""
    with pytest.raises(DeliveryError) as err:
        EmailChannel(["a@example.com"], smtp_url,
                     "r@example.com").send(RENDERER.render(sample("issue.created"), TARGET))
    assert not err.value.retryable and "SMTP_URL must look like smtp://" in err.value.reason
