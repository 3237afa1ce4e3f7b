"""ROUTER_ADMIN_TOKEN: off → 404 everywhere under /api/v1 and /ui; on → Bearer for the API, Basic for the console."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from router.settings import Settings
from router.web.api.auth import basic_password, bearer_token, token_ok

TOKENS = ("first-admin-token", "second-admin-token")
API_PATHS = ["/api/v1", "/api/v1/", "/api/v1/status", "/api/v1/no/such/thing"]
CONSOLE_PATHS = ["/ui", "/ui/", "/ui/static/console.css", "/ui/no-such-page"]


def basic(password: str, user: str = "anyone") -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    """An Authorization: Bearer header."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_client(settings: Settings) -> Iterator:
    """A test client of an app with two admin tokens."""
    from router.web.app import create_app

    yield create_app(settings.replace(admin_tokens=TOKENS)).test_client()


@pytest.mark.parametrize("path", API_PATHS + CONSOLE_PATHS)
@pytest.mark.parametrize("headers", [{}, bearer(TOKENS[0]), basic(TOKENS[0])])
def test_unset_token_answers_404(app, path: str, headers: dict[str, str]) -> None:
    """Without ROUTER_ADMIN_TOKEN every admin path is 404, whatever credentials come with it."""
    resp = app.test_client().get(path, headers=headers)
    assert resp.status_code == 404
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("headers", [{}, bearer("wrong"), bearer(""), bearer(TOKENS[0] + "x"), bearer(TOKENS[0][:-1]),
                                     basic(TOKENS[0]), {"Authorization": TOKENS[0]},
                                     {"Authorization": f"Token {TOKENS[0]}"}])
def test_api_refuses_without_a_valid_bearer(admin_client, path: str, headers: dict[str, str]) -> None:
    """The API answers 401 with a Bearer challenge and a JSON error for a missing, wrong or non-Bearer credential."""
    resp = admin_client.get(path, headers=headers)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")
    assert "Authorization: Bearer" in resp.get_json()["error"]


@pytest.mark.parametrize("token", TOKENS)
def test_api_accepts_every_configured_token(admin_client, token: str) -> None:
    """Each of the comma-separated tokens opens the API (rotation)."""
    resp = admin_client.get("/api/v1/status", headers=bearer(token))
    assert resp.status_code == 200
    assert resp.get_json()["rules"]["rules"] == 1


def test_api_unknown_path_is_404_after_auth(admin_client) -> None:
    """An unknown API path is a JSON 404 naming the path, once authenticated."""
    resp = admin_client.post("/api/v1/nope", headers=bearer(TOKENS[1]))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "no such path: /api/v1/nope"}


@pytest.mark.parametrize("path", CONSOLE_PATHS)
@pytest.mark.parametrize("headers", [{}, basic("wrong"), basic(""), bearer(TOKENS[0]), basic(TOKENS[0] + "x"),
                                     {"Authorization": "Basic !!!notbase64"},
                                     {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}])
def test_console_refuses_without_valid_basic(admin_client, path: str, headers: dict[str, str]) -> None:
    """The console answers 401 with a Basic challenge (so browsers prompt) for a missing or wrong password."""
    resp = admin_client.get(path, headers=headers)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")


@pytest.mark.parametrize("user", ["", "admin", "ops@example.com", "ops team"])
def test_console_accepts_any_user_name(admin_client, user: str) -> None:
    """HTTP Basic with any user name and a token as the password opens the console."""
    resp = admin_client.get("/ui/", headers=basic(TOKENS[1], user=user))
    assert resp.status_code == 200
    assert "text/html" in resp.headers["Content-Type"]


def test_console_root_redirects_after_auth(admin_client) -> None:
    """/ui redirects to /ui/ only for a signed-in user."""
    assert admin_client.get("/ui").status_code == 401
    resp = admin_client.get("/ui", headers=basic(TOKENS[0]))
    assert resp.status_code in (301, 302, 308) and resp.headers["Location"].endswith("/ui/")


def test_console_pages_carry_a_strict_csp(admin_client) -> None:
    """Console answers forbid inline script and any outside source."""
    csp = admin_client.get("/ui/", headers=basic(TOKENS[0])).headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_tokens_are_not_shown(admin_client) -> None:
    """Neither the status API nor the console page contains an admin token."""
    for resp in (admin_client.get("/api/v1/status", headers=bearer(TOKENS[0])),
                 admin_client.get("/ui/", headers=basic(TOKENS[0]))):
        assert resp.status_code == 200
        assert not any(t in resp.get_data(as_text=True) for t in TOKENS)


@pytest.mark.parametrize("given, expected", [
    ("first-admin-token", True), ("second-admin-token", True), ("first-admin-toke", False),
    ("first-admin-tokenx", False), ("", False), (None, False), ("ü-not-ascii", False), ("\udcff", False)])
def test_token_ok(given: str | None, expected: bool) -> None:
    """token_ok accepts exactly the configured tokens and refuses anything else without raising."""
    assert token_ok(given, TOKENS) is expected


def test_token_ok_refuses_everything_without_tokens() -> None:
    """No configured token means no accepted credential, not even an empty one."""
    assert not token_ok("", ()) and not token_ok("x", ())


@pytest.mark.parametrize("header, expected", [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Bearer", None), ("Basic abc", None), (None, None), ("", None)])
def test_bearer_token(header: str | None, expected: str | None) -> None:
    """bearer_token reads the token of a Bearer header, case-insensitively, and nothing else."""
    assert bearer_token(header) == expected


@pytest.mark.parametrize("header, expected", [
    (basic("pw")["Authorization"], "pw"), (basic("a:b")["Authorization"], "a:b"), ("Basic %%%", None),
    ("Bearer x", None), ("Basic " + base64.b64encode(b"\xff:\xfe").decode(), None), (None, None)])
def test_basic_password(header: str | None, expected: str | None) -> None:
    """basic_password reads the password (after the first colon) of a Basic header, and nothing else."""
    assert basic_password(header) == expected


def test_settings_reads_several_tokens() -> None:
    """ROUTER_ADMIN_TOKEN is comma-separated, blanks dropped, and its tokens count as secrets to mask."""
    s = Settings.from_env({"ROUTER_ADMIN_TOKEN": " one-token , ,two-token", "SENTRY_CLIENT_SECRET": "x"})
    assert s.admin_tokens == ("one-token", "two-token")
    assert {"one-token", "two-token"} <= set(s.secret_values())
