"""Email channel through Apprise against a local aiosmtpd server: subject, HTML and text parts, errors."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from router.channels import DeliveryError, build_channel
from router.channels.apprise import EmailChannel, mailto_url
from router.render import Renderer
from router.rules.model import Target
from router.settings import Settings
from tests.fakes.fixtures import fake_smtp  # noqa: F401  (fixture)
from tests.fakes.smtp import FakeSMTP
from tests.render_helpers import HOSTILE_TITLE, hostile_issue, sample

TARGET = Target("team", "email", {"to": ("backend@example.com", "ops@example.com")})
RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")


def test_email_has_subject_html_and_text(fake_smtp: FakeSMTP) -> None:  # noqa: F811
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


def test_hostile_title_is_escaped_in_email_html(fake_smtp: FakeSMTP) -> None:  # noqa: F811
    """Markup in a payload title arrives escaped in the HTML part and readable in the subject."""
    ch = build_channel(TARGET, Settings(smtp_url=fake_smtp.url))
    ch.send(RENDERER.render(hostile_issue(), TARGET))
    mail = fake_smtp.messages[0]
    assert HOSTILE_TITLE in mail["Subject"]
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_subject_prefix(fake_smtp: FakeSMTP) -> None:  # noqa: F811
    """A target's subject_prefix is put before the rendered subject."""
    target = Target("t", "email", {"to": ("a@example.com",), "subject_prefix": "[prod]"})
    build_channel(target, Settings(smtp_url=fake_smtp.url)).send(RENDERER.render(sample("issue.resolved"), target))
    assert fake_smtp.messages[0]["Subject"].startswith("[prod] [Sentry] Issue resolved")


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


@pytest.mark.parametrize(("smtp_url", "scheme", "mode", "netloc"), [
    ("smtp://mail.example.com", "mailto", "insecure", "mail.example.com"),
    ("smtps://u%40x:p%2Fw@mail.example.com:465", "mailtos", "ssl", "u%40x:p%2Fw@mail.example.com:465"),
    ("starttls://bob:pw@mail.example.com:587", "mailtos", "starttls", "bob:pw@mail.example.com:587"),
])
def test_mailto_url_from_smtp_url(smtp_url: str, scheme: str, mode: str, netloc: str) -> None:
    """SMTP_URL maps to Apprise's mailto:// (plain) or mailtos:// (ssl / starttls) with smtp, from and to."""
    url = mailto_url(smtp_url, "router@example.com", ["a@example.com", "b@example.com"])
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == (scheme, netloc)
    assert query == {"smtp": ["mail.example.com"], "mode": [mode], "from": ["router@example.com"],
                     "to": ["a@example.com,b@example.com"]}
