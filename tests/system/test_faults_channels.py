"""Channel faults at volume: Slack 500s, 429 Retry-After, timeouts; SMTP refusing connections; accepted == delivered.

Web app (Flask test client) and delivery worker (real sender threads) in this process, FakeSlack and
SMTP over real sockets. Not repeated here (pinned for one job in test_delivery_worker.py): the spacing of
retries after Retry-After, dead letters after a permanent error or exhausted attempts, and replay.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from router.settings import Settings
from router.store import SENT
from tests.conftest import SECRET, signed_headers
from tests.fakes.fixtures import SLACK_TOKEN
from tests.fakes.redis_server import free_port
from tests.fakes.slack import Call, FakeSlack
from tests.fakes.smtp import FakeSMTP, _Collector
from tests.support.delivery import running_worker, wait_for
from tests.support.load import TITLE, posted_messages
from tests.support.procs import issue_body

pytestmark = pytest.mark.slow  # processes end to end: run by CI, left out of the quick loop

N = 30
SLACK_RULES = ("version: 1\ntargets:\n  oncall: {type: slack, channel: \"#oncall\", thread: none}\n"
               "rules:\n  - name: all\n    match: {}\n    notify: [oncall]\n")
MAIL_RULES = SLACK_RULES.replace("oncall: {", "mail: {type: email, to: [ops@example.com]}\n  oncall: {") \
    .replace("notify: [oncall]", "notify: [oncall, mail]")


class StallingSlack(FakeSlack):
    """FakeSlack whose next requests can hang past the client's timeout (then 504, nothing posted)."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self._stalls: list[float] = []

    def stall_next(self, n: int, seconds: float) -> None:
        """The next `n` requests hang `seconds`, then answer 504 without posting."""
        with self._lock:
            self._stalls.extend([seconds] * n)

    def _answer(self, call: Call) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            if stall:
                self._calls.append(call)
        if not stall:
            return super()._answer(call)
        time.sleep(stall)
        return 504, {"Content-Type": "text/html"}, b"<html>gateway timeout</html>"


@pytest.fixture
def slack() -> Iterator[StallingSlack]:
    """A running StallingSlack accepting SLACK_TOKEN."""
    with StallingSlack(SLACK_TOKEN) as server:
        yield server


def _settings(tmp_path: Path, slack: FakeSlack, rules: str, **extra: object) -> Settings:
    (tmp_path / "rules.yaml").write_text(rules)
    return Settings(client_secrets=(SECRET,), rules_path=str(tmp_path / "rules.yaml"),
                    db_path=str(tmp_path / "var" / "router.sqlite3"), templates_path=str(tmp_path / "templates"),
                    reload_interval=0.0, slack_bot_token=SLACK_TOKEN, slack_api_url=slack.url,
                    retry_base=0.2, retry_deadline=60.0, worker_heartbeat=2.0,
                    slack_rate=0.0,   # one message per notification: pacing (digests) is pinned in test_delivery_pacing
                    **extra)


def _post_all(settings: Settings, n: int) -> list[int]:
    from router.web.app import create_app

    client = create_app(settings).test_client()
    statuses = []
    for i in range(n):
        body = issue_body(i)
        resp = client.post("/sentry/webhook", data=body, headers=signed_headers("issue", body))
        statuses.append(resp.status_code if not resp.get_json().get("duplicate") else -1)
    return statuses


# (case, how FakeSlack misbehaves, failed attempts it causes)
SLACK_FAULTS: list[tuple[str, Callable[[StallingSlack], None], int]] = [
    ("500s", lambda s: s.fail_next(12, status=500), 12),
    ("429 with Retry-After", lambda s: s.rate_limit_next(6, retry_after=1), 6),
    ("timeouts", lambda s: s.stall_next(4, seconds=1.0), 4),
]


@pytest.mark.parametrize("case, misbehave, failures", SLACK_FAULTS, ids=[c[0] for c in SLACK_FAULTS])
def test_slack_faults_every_accepted_webhook_is_posted_exactly_once(
        tmp_path: Path, slack: StallingSlack, monkeypatch: pytest.MonkeyPatch, case: str,
        misbehave: Callable[[StallingSlack], None], failures: int) -> None:
    """Slack failing (500, 429 Retry-After, hanging past the client timeout): accepted == posted, none twice."""
    monkeypatch.setattr("router.channels.slack.client.TIMEOUT", 0.3)  # the shipped 10 s would make this test slow
    settings = _settings(tmp_path, slack, SLACK_RULES)
    misbehave(slack)
    with running_worker(settings) as delivery:
        assert _post_all(settings, N) == [202] * N
        wait_for(lambda: delivery.store.count(SENT) == N, timeout=30)
        jobs = delivery.store.jobs(10 * N)
    time.sleep(0.5)  # let a stalled request finish: it must not post anything
    posted = posted_messages(slack)
    assert sorted(posted) == list(range(N)) and set(posted.values()) == {1}, (case, posted)
    assert sum(j.attempts for j in jobs) == N + failures
    assert len(slack.calls()) == N + failures


def test_smtp_refusing_at_first_every_accepted_webhook_is_emailed_exactly_once(tmp_path: Path,
                                                                              slack: StallingSlack) -> None:
    """SMTP refusing connections for 2 s, then up: every accepted webhook is emailed once and posted once."""
    port = free_port()
    settings = _settings(tmp_path, slack, MAIL_RULES, smtp_url=f"smtp://127.0.0.1:{port}")
    smtp = FakeSMTP()
    with running_worker(settings) as delivery:
        assert _post_all(settings, N) == [202] * N
        wait_for(lambda: len(slack.messages()) == N, timeout=10)
        time.sleep(2.0)
        assert delivery.store.count(SENT) == N  # only Slack so far: every email is retrying
        controller = Controller(_Collector(smtp), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            wait_for(lambda: delivery.store.count(SENT) == 2 * N, timeout=30)
            time.sleep(0.5)
        finally:
            controller.stop()
        jobs = delivery.store.jobs(10 * N)
    mailed = Counter(int(m.group(1)) for msg in smtp.messages if (m := TITLE.search(str(msg["Subject"]))))
    assert sorted(mailed) == list(range(N)) and set(mailed.values()) == {1}
    assert all(j.attempts >= 2 for j in jobs if j.target == "mail")
    assert set(posted_messages(slack).values()) == {1}
