"""The console's server side (Flask test client): pages, escaping, CSP, CSRF, replay forms, playground, email frame."""

from __future__ import annotations

import re

import pytest

from router.sentry import encode_like_sentry
from tests.conftest import fixture_payload
from tests.fakes.fixtures import fake_slack  # noqa: F401  (fixture)
from tests.support.api import (
    CONSOLE,
    admin_app,  # noqa: F401  (fixture)
    admin_settings,
    post_webhook,
    work,
)

PAGES = ["/ui/", "/ui/webhooks", "/ui/silences", "/ui/webhooks?resource=issue&rule=issues-to-oncall",
         "/ui/notifications",
         "/ui/notifications?status=sent", "/ui/playground", "/ui/playground?sample=issue.created", "/ui/status"]


@pytest.fixture
def app(admin_app):
    """The admin app (tests.support.api)."""
    yield admin_app


def token_of(html: bytes) -> str:
    """The CSRF token a page's form carries."""
    return re.search(rb'name="csrf_token" value="([0-9a-f]+)"', html).group(1).decode()


def hostile(n: int = 1) -> bytes:
    """An issue.created whose title is markup with script."""
    p = fixture_payload("issue.created")
    p["data"]["issue"].update(id=str(500 + n), title="<script>alert(1)</script><img src=x onerror=alert(2)>",
                              web_url="javascript:alert(3)")
    return encode_like_sentry(p)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_a_strict_policy(app, client, path: str) -> None:
    """Each page is 200 HTML with a CSP that forbids inline script and other origins, and no inline script."""
    post_webhook(client, "issue.created")
    work(app)
    resp = client.get(path, headers=CONSOLE)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    html = resp.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " on" + "click=" not in html


def test_webhook_page_shows_payload_text_as_text(app, client) -> None:
    """A hostile title appears escaped on the list and the webhook page; a javascript: URL is never a link."""
    wid = post_webhook(client, "issue.created", hostile())["id"]
    work(app)
    for path in ("/ui/webhooks", f"/ui/webhooks/{wid}"):
        html = client.get(path, headers=CONSOLE).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="javascript' not in html


def test_replay_form_needs_the_csrf_token(app, client, fake_slack) -> None:
    """A replay POST without (or with a wrong) CSRF token is refused and changes nothing; with it, 303 and queued."""
    fake_slack.error_next(1, "channel_not_found")
    post_webhook(client, "issue.created")
    work(app)
    page = client.get("/ui/notifications?status=dead", headers=CONSOLE).data
    job_id = re.search(rb'name="one" value="([^"]+)"', page).group(1).decode()
    store = app.extensions["router"].delivery.store
    for token in ("", "0" * 64):
        resp = client.post("/ui/notifications/replay", headers=CONSOLE, data={"csrf_token": token, "one": job_id})
        assert resp.status_code == 400 and b"csrf_token" in resp.data
        assert store.get(job_id).status == "dead"
    resp = client.post("/ui/notifications/replay", headers=CONSOLE,
                       data={"csrf_token": token_of(page), "one": job_id, "back": "https://evil.example/"})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/ui/notifications")
    assert store.get(job_id).status == "queued"


def test_replay_many(app, client, fake_slack) -> None:
    """Ticking several dead letters and replaying them queues each; then the worker sends them."""
    fake_slack.error_next(3, "channel_not_found")
    for n in range(3):
        post_webhook(client, "issue.created", hostile(n))
    work(app)
    page = client.get("/ui/notifications?status=dead", headers=CONSOLE).data
    ids = re.findall(rb'name="ids" value="([^"]+)"', page)
    assert len(ids) == 3
    resp = client.post("/ui/notifications/replay", headers=CONSOLE,
                       data={"csrf_token": token_of(page), "ids": [i.decode() for i in ids]})
    assert resp.status_code == 303 and resp.headers["Location"].count("done=") == 3
    work(app)
    assert [j.status for j in app.extensions["router"].delivery.store.notifications(("sent",), 10)] == ["sent"] * 3


def test_csrf_token_is_tied_to_the_admin_token(tmp_path, fake_slack) -> None:
    """The CSRF token depends on the signed-in token (not the user name), so a rotated token's forms differ."""
    import base64

    from router.web.app import create_app
    from tests.support.api import TOKEN

    app = create_app(admin_settings(tmp_path, fake_slack.url, admin_tokens=(TOKEN, "second-admin-token")))
    client = app.test_client()

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    first = token_of(client.get("/ui/playground", headers=basic("a", TOKEN)).data)
    assert first == token_of(client.get("/ui/playground", headers=basic("b", TOKEN)).data)
    assert first != token_of(client.get("/ui/playground", headers=basic("a", "second-admin-token")).data)


def test_playground_explains_without_sending_or_storing(app, client, fake_slack) -> None:
    """The playground shows matches and a Slack preview; nothing is sent or stored."""
    page = client.get("/ui/playground?sample=issue.created", headers=CONSOLE)
    body = re.search(r"<textarea name=\"payload\"[^>]*>(.*?)</textarea>", page.get_data(as_text=True), re.S).group(1)
    assert "&#34;" in body or "&quot;" in body          # the sample is escaped inside the textarea
    import html as htmllib
    resp = client.post("/ui/playground", headers=CONSOLE, data={
        "csrf_token": token_of(page.data), "resource": "issue", "payload": htmllib.unescape(body), "rules": ""})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "issues-to-oncall" in text and 'class="slack"' in text
    work(app)
    assert fake_slack.calls() == []
    assert client.get("/ui/webhooks", headers=CONSOLE).get_data(as_text=True).count("data-id=") == 0


@pytest.mark.parametrize("rules, line, says", [
    ("version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: a\n    match: {levle: error}\n    notify:"
     " [log]\n",
     6, "levle"),
    ("version: 1\ntargets: {}\nrules:\n  - name: a\n    match: {}\n    notify: [nobody]\n", 6, "nobody"),
    ("version: 1\nrules: [\n", 3, "invalid YAML")])
def test_playground_draft_errors_at_their_lines(client, rules: str, line: int, says: str) -> None:
    """A draft rules file's errors are listed beside the line they are on."""
    page = client.get("/ui/playground", headers=CONSOLE)
    resp = client.post("/ui/playground", headers=CONSOLE, data={
        "csrf_token": token_of(page.data), "resource": "issue", "payload": "{}", "rules": rules})
    text = resp.get_data(as_text=True)
    bad = re.findall(r'<li class="bad"><code>.*?</code>(.*?)</li>', text, re.S)
    assert bad and f"line {line}:" in bad[0] and says in bad[0]


def test_email_preview_is_its_own_sandboxed_document(tmp_path, fake_slack) -> None:
    """The email frame's document runs nothing and loads nothing (CSP sandbox), and the frame is sandboxed."""
    from router.web.app import create_app

    rules = ("version: 1\ntargets:\n  mail: {type: email, to: ops@example.com}\nrules:\n  - name: m\n"
             "    match: {}\n    notify: [mail]\n")
    app = create_app(admin_settings(tmp_path, fake_slack.url, rules=rules, smtp_url="smtp://127.0.0.1:9"))
    client = app.test_client()
    wid = post_webhook(client, "issue.created", hostile())["id"]
    work(app)
    page = client.get(f"/ui/webhooks/{wid}", headers=CONSOLE).get_data(as_text=True)
    src = re.search(r'<iframe class="email" sandbox src="([^"]+)"', page).group(1)
    resp = client.get(src, headers=CONSOLE)
    assert resp.status_code == 200 and "sandbox" in resp.headers["Content-Security-Policy"]
    assert "script-src" not in resp.headers["Content-Security-Policy"]   # default-src 'none' covers it
    assert "<script>alert(1)" not in resp.get_data(as_text=True)


def test_live_rows_are_json(app, client) -> None:
    """The live endpoint answers the first page as JSON (live.js builds rows from it with textContent)."""
    wid = post_webhook(client, "issue.created", hostile())["id"]
    d = client.get("/ui/webhooks/live?resource=issue", headers=CONSOLE).get_json()
    assert d["items"][0]["id"] == wid and d["items"][0]["title"].startswith("<script>")


def test_silence_added_in_the_console_holds_notifications_back(app, client, fake_slack) -> None:
    """A silence added on the silences page suppresses a matching notification; a bad one names its key path."""
    page = client.get("/ui/silences", headers=CONSOLE)
    assert page.status_code == 200 and b"No silences" in page.data
    bad = client.post("/ui/silences", headers=CONSOLE, data={"csrf_token": token_of(page.data),
                                                             "match": "{levle: error}", "duration": "2h"})
    assert bad.status_code == 200 and b"levle" in bad.data
    resp = client.post("/ui/silences", headers=CONSOLE, data={"csrf_token": token_of(page.data),
                                                              "match": "{resource: issue}", "duration": "1h",
                                                              "reason": "<b>deploy</b>"})
    assert resp.status_code == 303
    listed = client.get("/ui/silences", headers=CONSOLE).get_data(as_text=True)
    assert "active" in listed and "&lt;b&gt;deploy&lt;/b&gt;" in listed
    post_webhook(client, "issue.created")
    work(app)
    [job] = app.extensions["router"].delivery.store.notifications((), 10)
    assert job.status == "suppressed" and fake_slack.calls() == []
    sid = re.search(r'/ui/silences/([^/]+)/end', listed).group(1)
    assert client.post(f"/ui/silences/{sid}/end", headers=CONSOLE, data={}).status_code == 400   # no CSRF token
    client.post(f"/ui/silences/{sid}/end", headers=CONSOLE, data={"csrf_token": token_of(page.data)})
    assert "ended" in client.get("/ui/silences", headers=CONSOLE).get_data(as_text=True)
