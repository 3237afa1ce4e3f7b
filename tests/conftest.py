"""Shared test helpers: Sentry fixtures signed exactly as Sentry signs them, and an app on a temp store."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.sentry import encode_like_sentry
from router.sentry.verify import sign
from router.settings import Settings
from tests.support.tools import under_ci

FIXTURES = Path(__file__).parent / "fixtures"
# The shipped rules/rules.yaml as committed: users edit theirs, so tests read this copy.
EXAMPLE_RULES = Path(__file__).parent / "rules_data" / "example.yaml"
SECRET = "test-client-secret"
ALL_FIXTURES = sorted(p.name[: -len(".json")] for p in FIXTURES.glob("*.json"))

CONSOLE_RULES = """\
version: 1
targets:
  log:
    type: console
rules:
  - name: everything
    match: {}
    notify: [log]
"""


def fixture_payload(name: str) -> dict:
    """The parsed JSON of tests/fixtures/NAME.json."""
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def sentry_body(name: str) -> bytes:
    """The fixture's body as Sentry sends it: compact, ASCII-escaped, Sentry's key order."""
    return encode_like_sentry(fixture_payload(name))


def signed_headers(resource: str, body: bytes, secret: str = SECRET, request_id: str | None = None) -> dict[str, str]:
    """The headers Sentry sends with `body`, signed with `secret`."""
    return {"Content-Type": "application/json", "Sentry-Hook-Resource": resource,
            "Sentry-Hook-Signature": sign(body, secret), "Sentry-Hook-Timestamp": "1700000000",
            "Request-ID": request_id or uuid.uuid4().hex}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """A rules file that sends everything to one console target."""
    path = tmp_path / "rules.yaml"
    path.write_text(CONSOLE_RULES)
    return path


@pytest.fixture
def settings(tmp_path: Path, rules_file: Path) -> Settings:
    """Settings for an app on a private SQLite store and rules file."""
    return Settings(client_secrets=(SECRET,), rules_path=str(rules_file), db_path=str(tmp_path / "router.sqlite3"),
                    templates_path=str(tmp_path / "templates"), reload_interval=0.0)


@pytest.fixture
def app(settings: Settings) -> Iterator:
    """The Flask app built by create_app on the test settings."""
    from router.web.app import create_app

    yield create_app(settings)


@pytest.fixture
def client(app):
    """Flask's test client for the app."""
    return app.test_client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI every test runs: a skip (whatever its cause) is reported as a failure there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and under_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every test must run: {report.longrepr}"
