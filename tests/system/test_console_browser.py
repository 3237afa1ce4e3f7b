"""The console in a real headless Chromium (Debian's chromium via Playwright): log in, browse, replay, hostile text."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from router.sentry import encode_like_sentry
from tests.conftest import fixture_payload
from tests.fakes.fixtures import fake_slack  # noqa: F401  (fixture)
from tests.support.api import TOKEN, admin_settings, post_webhook
from tests.support.browser import launched, need_chromium, serving
from tests.support.delivery import running_worker, wait_for

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

HOSTILE_TITLE = "<script>alert('title')</script><img src=x onerror=alert('img')>"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium for the module."""
    need_chromium()
    with launched() as b:
        yield b


@pytest.fixture
def console(tmp_path, fake_slack):
    """(base URL, app, fake Slack) of a served app with a running worker."""
    from router.web.app import create_app

    settings = admin_settings(tmp_path, fake_slack.url)
    app = create_app(settings)
    with running_worker(settings), serving(app) as url:
        yield url, app, fake_slack


def signed_in(browser, **kw):
    """A page whose browser context signs in with HTTP Basic (any user, the token as password)."""
    ctx = browser.new_context(http_credentials={"username": "ops", "password": TOKEN}, **kw)
    return ctx.new_page()


def hostile_body() -> bytes:
    """issue.created whose title and link are attacker-written markup and script."""
    p = fixture_payload("issue.created")
    p["data"]["issue"].update(title=HOSTILE_TITLE, id="666", culprit="<b onmouseover=alert('c')>x</b>",
                              web_url="javascript:alert('link')")
    return encode_like_sentry(p)


def test_log_in_is_required(browser, console) -> None:
    """Without credentials the console answers 401; with the token as Basic password it shows the list."""
    url, _app, _slack = console
    anon = browser.new_context().request.get(url + "/ui/")   # a page would wait for a login prompt
    assert anon.status == 401 and anon.headers["www-authenticate"].startswith("Basic")
    wrong = browser.new_context(http_credentials={"username": "ops", "password": "wrong"}).request.get(url + "/ui/")
    assert wrong.status == 401
    page = signed_in(browser)
    assert page.goto(url + "/ui/").status == 200
    assert page.locator("h1").inner_text() == "Webhooks"


def test_list_updates_live_and_opens_a_webhook(browser, console, tmp_path) -> None:
    """A webhook arriving while the list is open appears without reload; its page shows the Slack preview."""
    url, app, slack = console
    page = signed_in(browser)
    page.goto(url + "/ui/webhooks")
    page.screenshot(path=str(tmp_path / "empty.png"))
    wid = post_webhook(app.test_client(), "issue.created")["id"]
    row = page.locator(f"tr[data-id='{wid}']")
    row.wait_for(timeout=10_000)
    wait_for(lambda: slack.calls("chat.postMessage"))
    row.locator("a").click()
    page.wait_for_url(f"**/ui/webhooks/{wid}")
    assert "issues-to-oncall" in page.locator(".explain").inner_text()
    wait_for(lambda: page.reload() and "sent" in page.locator(".notification .pill").first.inner_text(), 10)
    assert page.locator(".slack .sb-header").count() == 1
    assert page.locator(".slack .sb-button").first.get_attribute("href").startswith("https://")


def test_replay_a_dead_letter_and_see_it_sent(browser, console) -> None:
    """A dead letter replayed from the notifications page is sent to Slack and shows as sent."""
    url, app, slack = console
    slack.error_next(1, "channel_not_found")
    post_webhook(app.test_client(), "issue.created")
    page = signed_in(browser)
    wait_for(lambda: page.goto(url + "/ui/notifications?status=dead") and page.locator("button[name=one]").count())
    before = len(slack.calls("chat.postMessage"))
    page.locator("button[name=one]").first.click()
    page.wait_for_url("**/ui/notifications?status=dead*")
    assert "queued again" in page.locator("ul.done").inner_text()
    wait_for(lambda: len(slack.calls("chat.postMessage")) > before)
    page.goto(url + "/ui/notifications?status=sent")
    wait_for(lambda: page.reload() and page.locator("tbody tr td").count() > 1, 10)


def test_hostile_payload_never_executes(browser, console) -> None:
    """Markup and script in payload text show as text on every page: no dialog, no injected element or script."""
    url, app, _slack = console
    dialogs: list[str] = []
    page = signed_in(browser)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url + "/ui/webhooks")
    wid = post_webhook(app.test_client(), "issue.created", hostile_body())["id"]
    page.locator(f"tr[data-id='{wid}'] td.title").wait_for(timeout=10_000)   # added live, by live.js
    assert page.locator(f"tr[data-id='{wid}'] td.title").inner_text() == HOSTILE_TITLE
    time.sleep(0.5)
    for path in ("/ui/webhooks", f"/ui/webhooks/{wid}", "/ui/notifications?status=sent"):
        page.goto(url + path)
        page.wait_for_load_state("load")
        assert page.locator("img[src=x], b[onmouseover]").count() == 0, path
        scripts = page.eval_on_selector_all("script", "els => els.map(e => e.src)")
        assert all(s.endswith("/ui/static/live.js") for s in scripts), (path, scripts)
    page.goto(url + f"/ui/webhooks/{wid}")
    assert HOSTILE_TITLE in page.locator("h1").inner_text()
    assert "onmouseover" in page.locator("pre.payload").inner_text()
    assert page.locator("a[href^='javascript']").count() == 0
    page.goto(url + "/ui/playground")
    page.fill("textarea[name=payload]", hostile_body().decode())
    page.fill("input[name=resource]", "issue")
    page.click("button.primary")
    page.wait_for_load_state("load")
    assert HOSTILE_TITLE in page.locator("#outcome").inner_text()
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []


def test_playground_shows_draft_errors_at_their_lines(browser, console) -> None:
    """A draft rules file with a mistake shows the error beside its line; nothing is saved."""
    url, _app, _slack = console
    page = signed_in(browser)
    page.goto(url + "/ui/playground?sample=issue.created")
    page.fill("textarea[name=rules]", "version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: x\n"
                                      "    match: {levle: error}\n    notify: [log]\n")
    page.click("button.primary")
    page.wait_for_selector("ol.draft li.bad")   # the click's form POST loads a new page: wait for it
    bad = page.locator("ol.draft li.bad")
    assert bad.count() == 1 and "levle" in bad.first.inner_text() and "line 6" in bad.first.inner_text()


def test_phone_width_has_no_sideways_scroll(browser, console) -> None:
    """On a phone-sized screen the list fits the width (tables scroll inside their own box)."""
    url, _app, _slack = console
    page = signed_in(browser, viewport={"width": 390, "height": 844})
    for path in ("/ui/webhooks", "/ui/notifications", "/ui/playground", "/ui/status"):
        page.goto(url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
