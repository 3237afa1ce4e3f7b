"""Screenshots of the console for the README, taken in headless Chromium against a router with sample traffic.

    .venv/bin/python docs/make_screenshots.py        # writes docs/console-*.png

Everything runs on 127.0.0.1: the app (werkzeug, in a thread), a delivery worker, the fake Slack of the tests.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.sentry import encode_like_sentry  # noqa: E402
from tests.conftest import fixture_payload, sentry_body  # noqa: E402
from tests.fakes.fixtures import SLACK_TOKEN  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.support.api import TOKEN, admin_settings, post_webhook  # noqa: E402
from tests.support.browser import launched, serving  # noqa: E402
from tests.support.delivery import running_worker, wait_for  # noqa: E402

RULES = """\
version: 1
targets:
  oncall: {type: slack, channel: "#oncall"}
  backend: {type: slack, channel: "#backend"}
  log: {type: console}
rules:
  - name: errors-to-oncall
    match: {resource: issue, level: {gte: error}}
    notify: [oncall]
  - name: metric-alerts
    match: {resource: metric_alert}
    notify: [oncall, backend]
  - name: resolved
    match: {resource: issue, action: resolved}
    notify: [log]
"""


def traffic(client, slack: FakeSlack) -> str:
    """Post a morning's worth of webhooks; the id of the one to show on its own page."""
    for n, title in enumerate(["TypeError: Cannot read properties of undefined (reading 'id')",
                               "OperationalError: could not connect to server", "KeyError: 'customer'"]):
        p = fixture_payload("issue.created")
        p["data"]["issue"].update(id=str(100 + n), title=title, shortId=f"API-{n + 12}")
        shown = post_webhook(client, "issue.created", encode_like_sentry(p))["id"]
    slack.error_next(1, "channel_not_found")
    post_webhook(client, "metric_alert.critical", sentry_body("metric_alert.critical"))
    post_webhook(client, "issue.resolved", sentry_body("issue.resolved"))
    post_webhook(client, "comment.created", sentry_body("comment.created"))
    return shown


def main() -> None:
    """Serve, send, screenshot."""
    out = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(token=SLACK_TOKEN) as slack:
        from router.web.app import create_app

        settings = admin_settings(Path(tmp), slack.url, rules=RULES)
        app = create_app(settings)
        with running_worker(settings), serving(app) as url, launched() as browser:
            shown = traffic(app.test_client(), slack)
            wait_for(lambda: len(slack.calls("chat.postMessage")) >= 5, timeout=20)
            time.sleep(1.0)
            ctx = browser.new_context(http_credentials={"username": "ops", "password": TOKEN},
                                      viewport={"width": 1280, "height": 860})
            page = ctx.new_page()
            shots = [("webhooks", "/ui/webhooks"), ("webhook", f"/ui/webhooks/{shown}"),
                     ("notifications", "/ui/notifications?status=dead"), ("status", "/ui/status")]
            for name, path in shots:
                page.goto(url + path)
                page.screenshot(path=str(out / f"console-{name}.png"), full_page=name != "webhook")
            page.goto(url + "/ui/playground?sample=issue.created")
            page.click("button.primary")
            page.wait_for_load_state("load")
            page.screenshot(path=str(out / "console-playground.png"))
            phone = browser.new_context(http_credentials={"username": "ops", "password": TOKEN},
                                        viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
            phone.goto(url + f"/ui/webhooks/{shown}")
            phone.screenshot(path=str(out / "console-phone.png"))
    print("wrote", ", ".join(sorted(p.name for p in out.glob("console-*.png"))))


if __name__ == "__main__":
    main()
