"""Security (DESIGN 2.5, 1.5): constant-time signatures, no secret in any output, an inert sandbox, rules-only
targets."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from router.cli import main as cli
from router.delivery.deliverer import Deliverer, job_rule, job_target
from router.render import Renderer
from router.sentry import SentryEvent, encode_like_sentry
from router.sentry import verify as verify_mod
from router.settings import Settings
from router.web.app import create_app
from tests.conftest import fixture_payload, free_port, signed_headers
from tests.fakes.http_sink import HttpSink
from tests.fakes.slack import FakeSlack
from tests.support.delivery import fan_out_all

CLIENT_SECRET = "csec-Zq81-client-secret"
BOT_TOKEN = "xoxb-4242-SECRETBOT-token"
SMTP_PASSWORD = "smtpPW-Secret-777"
APPRISE_PASSWORD = "apprisePW-Secret-555"
APPRISE_HEADER = "hdr-Secret-Api-Key-777"   # an HTTP header Apprise sends (`?+X-Api-Key=`)
APPRISE_TOKEN = "qry-Secret-Token-888"       # a query parameter named like a credential
SECRETS = (CLIENT_SECRET, BOT_TOKEN, SMTP_PASSWORD, APPRISE_PASSWORD, APPRISE_HEADER, APPRISE_TOKEN)

RULES = """\
version: 1
targets:
  oncall: {type: slack, channel: "#oncall", thread: none}
  mail: {type: email, to: [ops@example.com]}
  chat: {type: apprise, url: ["${CHAT_URL}", "${DEAD_URL}"]}
rules:
  - name: everything
    match: {}
    notify: [oncall, mail, chat]
"""


def test_signature_compare_is_constant_time(monkeypatch) -> None:
    """verify() compares with hmac.compare_digest against every configured secret, with no early exit."""
    calls: list[tuple[bytes, bytes]] = []
    real = verify_mod.hmac.compare_digest
    monkeypatch.setattr(verify_mod.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    body = b'{"action":"created"}'
    good = verify_mod.sign(body, "s1")
    for sig, expected in ((good, True), ("0" * 64, False), (good[:10], False)):
        calls.clear()
        assert verify_mod.verify(body, sig, ("s1", "s2", "s3")) is expected
        assert len(calls) == 3


@pytest.fixture
def world(tmp_path: Path, monkeypatch):
    """A router with every kind of secret configured, a failing Slack, SMTP and Apprise, and its outputs."""
    with FakeSlack(token="xoxb-the-right-one") as slack, HttpSink(status=500) as sink:
        dead = free_port()
        env = {"SENTRY_CLIENT_SECRET": CLIENT_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.url,
               "SMTP_URL": f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{dead}",
               "CHAT_URL": f"json://bot:{APPRISE_PASSWORD}@127.0.0.1:{sink.port}/hook",
               "DEAD_URL": f"json://bot:{APPRISE_PASSWORD}@127.0.0.1:{dead}/x?+X-Api-Key={APPRISE_HEADER}"
                           f"&token={APPRISE_TOKEN}",
               "ROUTER_RULES": str(tmp_path / "rules.yaml"), "ROUTER_DB": str(tmp_path / "r.sqlite3"),
               "ROUTER_TEMPLATES": str(tmp_path / "templates"), "ROUTER_RELOAD_INTERVAL": "0"}
        (tmp_path / "rules.yaml").write_text(RULES)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield Settings.from_env(), slack, sink


@pytest.mark.slow
def test_no_secret_in_any_output(world, caplog, capfd) -> None:
    """After accepting, refusing and failing to deliver, no secret is in logs, answers, metrics, ledger or CLI
    output."""
    settings, slack, sink = world
    caplog.set_level(logging.DEBUG)
    app = create_app(settings)
    client, rt = app.test_client(), app.extensions["router"]
    outputs: list[str] = []
    for name in ("issue.created", "error.created", "metric_alert.critical"):
        body = encode_like_sentry(fixture_payload(name))
        headers = signed_headers(name.split(".")[0], body, CLIENT_SECRET)
        outputs.append(client.post("/sentry/webhook", data=body, headers=headers).get_data(as_text=True))
    body = b'{"action":"created","data":{}}'
    for headers in (signed_headers("issue", body, "wrong"), signed_headers("issue", b"", CLIENT_SECRET), {}):
        outputs.append(client.post("/sentry/webhook", data=body, headers=headers).get_data(as_text=True))
    deliverer = Deliverer(settings, rt.delivery.store, owner="security-test")
    fan_out_all(rt.delivery)
    jobs = rt.delivery.deliveries(100)
    assert len(jobs) == 9
    for job in jobs:
        deliverer(job.id)
    failed = rt.delivery.deliveries(100, failed=True)
    assert len(failed) == 9 and all(j.last_error for j in failed)        # every delivery failed, with a reason
    assert slack.calls() and sink.requests                                   # Slack and Apprise were really tried
    outputs += [client.get(p).get_data(as_text=True) for p in ("/metrics", "/-/ready", "/-/healthy")]
    outputs += [json.dumps(j.summary()) for j in failed]
    runner = CliRunner()
    payload = Path(settings.rules_path).parent / "issue.created.json"
    payload.write_text(json.dumps(fixture_payload("issue.created")))
    for args in (["deliveries"], ["deliveries", "--failed", "--json"], ["check"], ["test", str(payload)]):
        result = runner.invoke(cli, args, catch_exceptions=False)
        outputs.append(result.output)
    captured = capfd.readouterr()
    outputs += [caplog.text, captured.out, captured.err, *(r.getMessage() for r in caplog.records)]
    text = "\n".join(outputs)
    assert "invalid_auth" in text and "****" in text  # the outputs are really there, with masked credentials
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked"


def test_no_secret_in_store_file(world) -> None:
    """The raw store contents hold no secret, before and after fan-out: target snapshots mask URL credentials;
    the worker uses the live rules."""
    settings, _, _ = world
    app = create_app(settings)
    body = encode_like_sentry(fixture_payload("issue.created"))
    app.test_client().post("/sentry/webhook", data=body, headers=signed_headers("issue", body, CLIENT_SECRET))
    with sqlite3.connect(settings.db_path) as conn:
        inbound = conn.execute("select * from router_inbound").fetchall()
    fan_out_all(app.extensions["router"].delivery)
    with sqlite3.connect(settings.db_path) as conn:
        rows = conn.execute("select * from router_job").fetchall()
    assert inbound and rows and not any(s in repr(inbound) + repr(rows) for s in SECRETS)


EVIL = "{{ ''.__class__.__mro__ }}{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}"


@pytest.mark.parametrize("target_type", ["slack", "email", "console"])
def test_template_syntax_in_payload_is_inert(target_type: str) -> None:
    """Jinja syntax inside payload text is printed literally (escaped for the channel), never evaluated."""
    from router.rules.model import Target

    payload = fixture_payload("issue.created")
    payload["data"]["issue"]["title"] = EVIL
    payload["data"]["issue"]["culprit"] = "{{ config }} {{ self.__init__.__globals__ }}"
    event = SentryEvent.from_dict({"resource": "issue", **payload})
    message = Renderer(None).render(event, Target("t", target_type, {"channel": "#c", "to": ["a@b.c"]}))
    everything = json.dumps([message.title, message.text, message.blocks, message.html])
    everything = re.sub(r"<!date\^00000000\^\{_\}\|(.)>", r"\1", everything)  # Slack: `_` shown as written
    assert "__mro__" in everything and "<class" not in everything and "&lt;class" not in everything


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{% set x = event.data.__class__.__base__.__subclasses__() %}{{ x }}",
    "{{ event.__class__.__init__.__globals__ }}",
    "{{ [].append.__self__.__class__ }}{{ event.data.update({'x': 1}) }}",
]


@pytest.mark.parametrize("expr", ESCAPES)
def test_template_cannot_reach_python_internals(tmp_path: Path, expr: str) -> None:
    """A user template reaching for Python internals gets nothing: sandbox refusal (default used) or an empty value."""
    from router.rules.model import Target

    (tmp_path / "issue.text.j2").write_text("{% block title %}" + expr + "{% endblock %}{% block body %}b{% endblock"
                                                                         " %}")
    event = SentryEvent.from_dict({"resource": "issue", **fixture_payload("issue.created")})
    message = Renderer(str(tmp_path)).render(event, Target("t", "console", {}))
    everything = message.title + message.text
    assert "<class" not in everything and "environ" not in everything and "uid=" not in everything
    assert message.text  # a message all the same: the sandbox either refused (→ default template) or gave nothing


def test_payload_cannot_choose_targets(world) -> None:
    """Channel names, Slack webhook URLs and Apprise URLs inside a payload change nothing: rules alone decide."""
    settings, slack, sink = world
    settings = settings.replace(slack_bot_token="xoxb-the-right-one")
    app = create_app(settings)
    rt = app.extensions["router"]
    payload = fixture_payload("issue.created")
    payload["data"]["issue"].update(channel="#attacker", webhook_url=f"{sink.url('evil')}",
                                    url=f"json://127.0.0.1:{sink.port}/evil", to=["evil@example.com"])
    payload["data"].update(channel="#attacker", target="chat", notify=["chat"], options={"channel": "#attacker"})
    body = encode_like_sentry(payload)
    assert app.test_client().post("/sentry/webhook", data=body,
                                  headers=signed_headers("issue", body, CLIENT_SECRET)).status_code == 202
    fan_out_all(rt.delivery)
    jobs = rt.delivery.deliveries(10)
    assert {j.target for j in jobs} == {"oncall", "mail", "chat"}
    rules = rt.rules.current.targets
    for job in jobs:
        assert job_target(job, rules) is rules[job.target]
        assert job_rule(job).name == "everything"
    slack_job = next(j for j in jobs if j.target == "oncall")
    Deliverer(settings, rt.delivery.store, owner="t")(slack_job.id)
    assert [c.params.get("channel") for c in slack.calls("chat.postMessage")] == ["#oncall"]
    assert not any("evil" in r.path for r in sink.requests)
