"""Pytest fixtures for the fakes; use them with `from tests.fakes.fixtures import fake_slack, fake_smtp, http_sink`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.http_sink import HttpSink
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSMTP

SLACK_TOKEN = "xoxb-test-0000-fake"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack accepting the token SLACK_TOKEN."""
    with FakeSlack(token=SLACK_TOKEN) as slack:
        yield slack


@pytest.fixture
def fake_smtp() -> Iterator[FakeSMTP]:
    """A running local SMTP server collecting messages."""
    with FakeSMTP() as smtp:
        yield smtp


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    """A running HTTP server recording requests (Apprise json:// posts)."""
    with HttpSink() as sink:
        yield sink
