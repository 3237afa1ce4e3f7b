"""Installation tokens against a fake Sentry API on 127.0.0.1: the grant exchange on installation.created,
refresh before expiry and after a 401, a revoked installation, installation.deleted, several installations,
SENTRY_API_TOKEN, and both stores (DESIGN 3.5)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.sentry import build, encode_like_sentry
from router.sentry_app.api import SentryApi
from router.sentry_app.tokens import PREFIX, Tokens
from router.settings import Settings
from router.store import SENT, open_store
from tests.conftest import SECRET, fixture_payload, signed_headers
from tests.fakes.redis_server import redis_server  # noqa: F401  (fixture)
from tests.fakes.sentry_api import FakeSentryAPI
from tests.support.delivery import running_worker, wait_for

CLIENT_ID = "cid-router-test"
UUID = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"     # installation.created fixture
CODE = "f3c71b491e3949b6b033ae45312a4fcb"


@pytest.fixture
def sentry() -> Iterator[FakeSentryAPI]:
    """A running fake Sentry API knowing our client id and secret."""
    with FakeSentryAPI(client_id=CLIENT_ID, client_secret=SECRET) as fake:
        fake.install(UUID, CODE)
        yield fake


def app_settings(tmp_path: Path, sentry: FakeSentryAPI, **extra) -> Settings:
    """A public integration's settings on a private SQLite store, with the fake as its Sentry API."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: none\n"
                     "    match: {resource: nothing}\n    notify: [log]\n")
    return Settings(client_secrets=(SECRET,), rules_path=str(rules), db_path=str(tmp_path / "router.sqlite3"),
                    templates_path=str(tmp_path / "t"), reload_interval=0.0, sentry_client_id=CLIENT_ID,
                    sentry_api_url=sentry.url, enrich_timeout=1.0, retry_base=0.2, **extra)


def installation_webhook(action: str, uuid: str = UUID, code: str | None = CODE) -> bytes:
    """installation.<action> as Sentry sends it."""
    payload = copy.deepcopy(fixture_payload("installation.created"))
    payload["action"] = action
    payload["data"]["installation"].update(uuid=uuid, code=code)
    payload["installation"]["uuid"] = uuid
    return encode_like_sentry(payload)


def post_and_deliver(settings: Settings, body: bytes) -> dict:
    """POST one installation webhook to the app, run the worker until its job is sent; its ledger row."""
    from router.web.app import create_app

    client = create_app(settings).test_client()
    resp = client.post("/sentry/webhook", data=body, headers=signed_headers("installation", body))
    assert resp.status_code == 202, resp.data
    with running_worker(settings) as delivery:
        job = wait_for(lambda: [j for j in delivery.store.jobs(10, (), resp.get_json()["id"]) if j.status == SENT])
    return {"job": job[0], "store": delivery.store}


def test_installation_created_exchanges_the_grant_code(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """installation.created: the code is exchanged once with our client id and secret, the token is stored,
    the install confirmed; the ledger row says so without the token."""
    out = post_and_deliver(app_settings(tmp_path, sentry, sentry_confirm_install=True), installation_webhook("created"))
    (call,) = sentry.requests("authorizations")
    assert call.body == {"grant_type": "authorization_code", "code": CODE, "client_id": CLIENT_ID,
                         "client_secret": SECRET}
    assert sentry.installed == {UUID}
    job, store = out["job"], out["store"]
    assert job.target == "(sentry-app)" and job.receipt["done"] == "token stored, installation confirmed"
    record = json.loads(store.kv_get(PREFIX + UUID))
    assert record["token"] in sentry.issued_tokens() and record["org"] == "test-org"
    row = json.dumps([job.receipt, job.last_error, job.payload], default=str)
    assert not any(t in row for t in sentry.issued_tokens())


def test_installation_deleted_drops_the_token(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """installation.deleted removes the stored token and refresh token."""
    settings = app_settings(tmp_path, sentry)
    post_and_deliver(settings, installation_webhook("created"))
    out = post_and_deliver(settings, installation_webhook("deleted"))
    assert out["job"].receipt["done"] == "token dropped"
    assert out["store"].kv_get(PREFIX + UUID) is None


def test_a_refused_code_is_a_dead_letter_without_secrets(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """A grant code Sentry refuses is not retried: a dead letter naming the refusal, no secret in it."""
    from router.store import DEAD
    from router.web.app import create_app

    settings = app_settings(tmp_path, sentry)
    body = installation_webhook("created", code="not-the-code")
    resp = create_app(settings).test_client().post("/sentry/webhook", data=body,
                                                   headers=signed_headers("installation", body))
    with running_worker(settings) as delivery:
        (job,) = wait_for(lambda: [j for j in delivery.store.jobs(10, (), resp.get_json()["id"]) if j.status == DEAD])
    assert "token authorization_code failed: Sentry API POST" in job.last_error and "HTTP 401" in job.last_error
    assert SECRET not in job.last_error and "not-the-code" not in job.last_error


def _tokens(settings: Settings, store) -> Tokens:
    return Tokens(settings, store, SentryApi(settings.sentry_api_base, settings.enrich_timeout))


def _install(tokens: Tokens, uuid: str = UUID, org: str = "test-org") -> None:
    payload = json.loads(installation_webhook("created", uuid))
    payload["data"]["installation"]["organization"]["slug"] = org
    tokens.on_webhook(build("installation", payload))


def test_a_token_about_to_expire_is_refreshed_first(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """A token with less than the margin left is refreshed (refresh token used once) before it is handed out."""
    settings = app_settings(tmp_path, sentry)
    store = open_store(settings)
    tokens = _tokens(settings, store)
    sentry.token_ttl = 60.0
    _install(tokens)
    first = json.loads(store.kv_get(PREFIX + UUID))
    sentry.token_ttl = 8 * 3600.0
    cred = tokens.credential(UUID)
    assert cred is not None and cred.token != first["token"] and cred.org == "test-org"
    refresh = sentry.requests("authorizations")[-1].body
    assert refresh == {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                       "client_id": CLIENT_ID, "client_secret": SECRET}
    assert tokens.credential(UUID).token == cred.token
    assert len(sentry.requests("authorizations")) == 2


def test_a_401_refreshes_and_a_revoked_installation_drops_the_token(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """After a 401 the token is refreshed once; when Sentry refuses the refresh (uninstalled) it is dropped."""
    settings = app_settings(tmp_path, sentry)
    store = open_store(settings)
    tokens = _tokens(settings, store)
    _install(tokens)
    cred = tokens.credential(UUID)
    sentry.expire_tokens()
    fresh = tokens.rejected(cred)
    assert fresh is not None and fresh.token != cred.token
    sentry.revoke(UUID)
    assert tokens.rejected(fresh) is None
    assert store.kv_get(PREFIX + UUID) is None and tokens.credential(UUID) is None


def test_several_installations_and_the_internal_token(tmp_path: Path, sentry: FakeSentryAPI) -> None:
    """Each installation has its own token and organization; others fall back to SENTRY_API_TOKEN."""
    settings = app_settings(tmp_path, sentry, sentry_api_token="sntrys_internal_static_token")
    store = open_store(settings)
    tokens = _tokens(settings, store)
    other = "0f5d7c1e-0000-4000-8000-000000000002"
    sentry.install(other, "second-code")
    _install(tokens)
    payload = json.loads(installation_webhook("created", other, "second-code"))
    payload["data"]["installation"]["organization"]["slug"] = "second-org"
    tokens.on_webhook(build("installation", payload))
    one, two = tokens.credential(UUID), tokens.credential(other)
    assert one and two and one.token != two.token and (one.org, two.org) == ("test-org", "second-org")
    internal = tokens.credential("unknown-installation", "acme")
    assert internal is not None and (internal.token, internal.org) == ("sntrys_internal_static_token", "acme")


def test_tokens_live_in_redis_too(tmp_path: Path, sentry: FakeSentryAPI, redis_server) -> None:
    """With REDIS_URL the token is kept in Redis: another process's store finds and refreshes it."""
    redis_server.flush()
    settings = app_settings(tmp_path, sentry, redis_url=redis_server.url)
    tokens = _tokens(settings, open_store(settings))
    _install(tokens)
    elsewhere = _tokens(settings, open_store(settings))
    sentry.token_ttl = 1.0
    cred = elsewhere.credential(UUID)
    assert cred is not None and cred.org == "test-org"
    time.sleep(0.01)
    assert len(sentry.requests("authorizations")) == 1   # 8 h token: no refresh yet
