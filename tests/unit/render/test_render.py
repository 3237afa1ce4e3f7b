"""Templates: lookup, per-channel escaping, fallback, the shipped defaults, `check_templates`, examples."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from router.render import Renderer, check_templates, form_for
from router.rules.model import Rule, RuleSet, Target
from tests.support.render import ALL_SAMPLES, HOSTILE_TITLE, RESOURCES, first_sample, hostile_issue, sample

SLACK = Target("oncall", "slack", {"channel": "#oncall"})
EMAIL = Target("mail", "email", {"to": ["a@example.com"]})
CONSOLE = Target("log", "console", {})
APPRISE = Target("chat", "apprise", {"urls": ["json://127.0.0.1:9/x"]})
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(templates_path=None, sentry_url="https://acme.sentry.io")


def errors_counted(template: str) -> float:
    return REGISTRY.get_sample_value("router_template_errors_total", {"template": template}) or 0.0


@pytest.mark.parametrize("name", ALL_SAMPLES)
@pytest.mark.parametrize("target", [SLACK, EMAIL, CONSOLE], ids=["slack", "email", "text"])
def test_every_sample_renders_with_shipped_templates(renderer: Renderer, name: str, target: Target) -> None:
    """Every bundled sample renders in every form from a shipped template, never the built-in last resort."""
    msg = renderer.render(sample(name), target, None)
    assert msg.template.endswith(".j2") and msg.channel == form_for(target.type)
    assert msg.title.strip() and msg.text.strip()
    if target.type == "slack":
        assert msg.blocks and msg.blocks[0]["type"] == "header"
    if target.type == "email":
        assert msg.html and msg.html.lstrip().startswith("<!DOCTYPE html>") and "\n" not in msg.title


@pytest.mark.parametrize("resource", RESOURCES)
def test_slack_card_shape_per_resource(renderer: Renderer, resource: str) -> None:
    """The Slack card has a header ≤ 150 chars, a title section, ≤ 10 fields and an "Open in Sentry" button to a
    page — none when nothing better than the organisation root exists."""
    msg = renderer.render(sample(first_sample(resource)), SLACK, Rule("r", None))
    kinds = [b["type"] for b in msg.blocks]
    assert kinds[0] == "header" and kinds[-1] == "context" and "section" in kinds
    assert len(msg.blocks[0]["text"]["text"]) <= 150
    for block in msg.blocks:
        assert len(block.get("fields", [])) <= 10
    buttons = [e for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]
    if resource in ("installation", "metric_alert", "preprod_artifact"):  # samples without a page of their own
        assert not buttons
        return
    assert buttons[0]["text"]["text"] == "Open in Sentry" and buttons[0]["url"].startswith("https://")
    assert buttons[0]["url"].rstrip("/") != "https://acme.sentry.io"


def test_no_button_without_a_link() -> None:
    """Without a link in the payload or SENTRY_URL, the card has no button."""
    msg = Renderer(None, sentry_url=None).render(sample("metric_alert.critical"), SLACK)
    assert all(b["type"] != "actions" for b in msg.blocks)


@pytest.mark.parametrize(("name", "emoji"), [("issue.created", "🔴"), ("issue.resolved", "✅"),
                                             ("metric_alert.critical", "🚨"), ("metric_alert.warning", "⚠️"),
                                             ("metric_alert.resolved", "✅"), ("issue.assigned", "👤"),
                                             ("comment.created", "💬"), ("seer.root_cause_completed", "🤖")])
def test_headline_emoji_and_colour(renderer: Renderer, name: str, emoji: str) -> None:
    """The header says what happened with an emoji by action or level; colours follow severity."""
    msg = renderer.render(sample(name), SLACK)
    assert msg.blocks[0]["text"]["text"].startswith(emoji)
    if name == "issue.created":
        assert msg.color == "#E01E5A" and msg.title == "🔴 New issue in python"
    if name.endswith("resolved"):
        assert msg.color == "#2EB67D"
    if name == "metric_alert.warning":
        assert msg.color == "#ECB22E"


def test_slack_escapes_payload_text(renderer: Renderer) -> None:
    """Payload text in Slack mrkdwn has & < > escaped (no pings, no fake links) and stays valid JSON."""
    msg = renderer.render(hostile_issue(), SLACK)
    dumped = json.dumps({"text": msg.text, "blocks": msg.blocks}, ensure_ascii=False)
    assert "<!channel>" not in dumped and "<script>" not in dumped and "<@U123>" not in dumped
    assert "&lt;!channel&gt;" in msg.text and "Tom &amp; Jerry's \"cheese\" 🧀" in msg.text
    section = msg.blocks[1]["text"]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "&lt;https://evil.example|click me&gt;" in section
    assert msg.blocks[0]["text"]["type"] == "plain_text"


def test_email_html_is_escaped_and_text_is_plain(renderer: Renderer) -> None:
    """Email HTML escapes payload markup; subject and text part show the title as written."""
    msg = renderer.render(hostile_issue(), EMAIL)
    assert "<script>" not in msg.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in msg.html
    assert "Tom &amp; Jerry" in msg.html and "🧀" in msg.html
    assert HOSTILE_TITLE in msg.title and HOSTILE_TITLE in msg.text


def test_text_form_is_plain(renderer: Renderer) -> None:
    """Apprise and console get the text form, unescaped."""
    msg = renderer.render(hostile_issue(), APPRISE)
    assert msg.channel == "text" and msg.html is None and msg.blocks is None
    assert HOSTILE_TITLE in msg.text


def test_lookup_order_and_user_overrides(tmp_path: Path) -> None:
    """Lookup: rule template, then resource, then default; the user folder overrides shipped files by name."""
    (tmp_path / "special.text.j2").write_text("{% block title %}special{% endblock %}{% block body %}b{% endblock %}")
    (tmp_path / "issue.text.j2").write_text("{% block title %}issue {{ project }}{% endblock %}{% block body %}{%"
                                            " endblock %}")
    (tmp_path / "default.text.j2").write_text("{% block title %}mine{% endblock %}{% block body %}x{% endblock %}")
    r = Renderer(str(tmp_path))
    assert r.render(sample("issue.created"), CONSOLE, Rule("r", None, template="special")).title == "special"
    assert r.render(sample("issue.created"), CONSOLE, Rule("r", None)).title == "issue python"
    assert r.render(sample("comment.created"), CONSOLE).title == "mine"
    # a slack target with a rule template that only has a text file uses that text file
    msg = r.render(sample("issue.created"), SLACK, Rule("r", None, template="special"))
    assert (msg.template, msg.title, msg.blocks) == ("special.text.j2", "special", None)
    # slack keeps its shipped form where the user has only text files for the resource
    assert r.render(sample("comment.created"), SLACK).template == "comment.slack.j2"


def test_broken_template_falls_back_logs_and_counts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A template that raises falls back to default, logs file:line at WARNING and bumps the error counter."""
    (tmp_path / "issue.text.j2").write_text("{% block title %}\n{{ 1 / 0 }}{% endblock %}")
    before = errors_counted("issue.text.j2")
    with caplog.at_level(logging.WARNING, logger="router.render.renderer"):
        msg = Renderer(str(tmp_path)).render(sample("issue.created"), CONSOLE)
    assert msg.template == "default.text.j2" and msg.title == "🔴 New issue in python"
    assert errors_counted("issue.text.j2") == before + 1
    assert any("issue.text.j2:2" in r.getMessage() for r in caplog.records)


def test_sandbox_blocks_unsafe_access(tmp_path: Path) -> None:
    """Templates run sandboxed: reaching for Python internals fails and falls back to default."""
    (tmp_path / "issue.text.j2").write_text("{% block title %}{{ ''.__class__.__mro__[1].__subclasses__() }}{%"
                                            " endblock %}")
    msg = Renderer(str(tmp_path)).render(sample("issue.created"), CONSOLE)
    assert msg.template == "default.text.j2" and "subclasses" not in msg.title


def test_templates_cannot_change_the_payload(tmp_path: Path) -> None:
    """The sandbox is immutable: a template mutating the payload fails (falls back) and the event is unchanged."""
    (tmp_path / "issue.text.j2").write_text("{% block title %}{{ event.data.update({'x': 1}) }}{% endblock %}")
    event = sample("issue.created")
    msg = Renderer(str(tmp_path)).render(event, CONSOLE)
    assert msg.template == "default.text.j2" and "x" not in event.data


def test_default_broken_too_gives_builtin_message(tmp_path: Path) -> None:
    """If even default fails, a plain message built in Python is returned, never an exception."""
    (tmp_path / "default.slack.j2").write_text("{% block blocks %}not json{% endblock %}")
    (tmp_path / "comment.slack.j2").write_text("{% block title %}{{ nope() }}{% endblock %}")
    msg = Renderer(str(tmp_path)).render(sample("comment.created"), SLACK)
    assert msg.template == "(built-in)" and "comment" in msg.title


def test_suppressed_and_reply_kinds(renderer: Renderer) -> None:
    """`notification.suppressed` shows "(+N similar suppressed)"; a reply is a compact card without header."""
    msg = renderer.render(sample("issue.created"), SLACK, notification={"kind": "reply", "suppressed": 4})
    assert "(+4 similar suppressed)" in msg.text and msg.meta["kind"] == "reply"
    assert msg.blocks[0]["type"] == "section" and "(+4 similar suppressed)" in msg.blocks[-1]["elements"][0]["text"]
    update = renderer.render(sample("issue.resolved"), SLACK, notification={"kind": "update", "status": "Resolved"})
    assert "*Resolved*" in update.blocks[-1]["elements"][0]["text"]


def test_slack_limits_are_enforced(renderer: Renderer) -> None:
    """Over-long text is cut to Slack's limits (header 150, section 3000) without breaking an &entity;."""
    event = hostile_issue()
    payload = {"action": "created", "data": {"issue": {**event.data["issue"], "title": "&" * 5000}}}
    from router.sentry import build
    msg = renderer.render(build("issue", payload), SLACK)
    assert len(msg.blocks[0]["text"]["text"]) <= 150 and len(msg.blocks[1]["text"]["text"]) <= 3000
    assert msg.blocks[1]["text"]["text"].rstrip("…*").endswith("&amp;")


@pytest.mark.slow
def test_check_templates_passes_for_shipped_defaults() -> None:
    """`check_templates` finds nothing wrong with the shipped templates and the example user folder."""
    assert check_templates(str(ROOT / "templates")) == []


@pytest.mark.slow
def test_check_templates_reports_file_line_and_sample(tmp_path: Path) -> None:
    """Broken user templates are reported as FILE:LINE: sample X: message; bad blocks JSON too."""
    (tmp_path / "issue.text.j2").write_text("{% block title %}ok{% endblock %}\n{% block body %}\n{{"
                                            " event.data.issue.title.upper(1, 2) }}{% endblock %}")
    (tmp_path / "seer.slack.j2").write_text('{% block title %}t{% endblock %}{% block blocks %}[{"text": 1}]{%'
                                            ' endblock %}')
    (tmp_path / "bad.text.j2").write_text("{% if %}")
    (tmp_path / "weird.j2").write_text("x")
    errors = check_templates(str(tmp_path))
    joined = "\n".join(errors)
    assert f"{tmp_path}/issue.text.j2:3: sample activity_alert.triggered: TypeError" in joined or \
        "issue.text.j2:3: sample activity_alert.triggered: TypeError" in joined
    assert "seer.slack.j2" in joined and 'blocks[0]: expected an object with a "type"' in joined
    assert "bad.text.j2:1: TemplateSyntaxError" in joined
    assert "weird.j2:0: not named NAME.FORM.j2" in joined


@pytest.mark.slow
def test_check_templates_reports_unknown_rule_template() -> None:
    """A rule naming a template that exists in no form is reported with the rules file and line."""
    ruleset = RuleSet(rules=(Rule("r1", None, template="nosuch", line=7),), targets={}, source="rules/rules.yaml")
    assert check_templates(None, ruleset=ruleset) == [
        'rules/rules.yaml:7: rule "r1": template "nosuch" not found '
        "(expected nosuch.slack.j2, .email.j2 or .text.j2 in the templates folder)"]


def test_docs_examples_are_up_to_date() -> None:
    """docs/examples/ holds exactly what the renderer produces now (regenerate with docs/examples/generate.py)."""
    result = subprocess.run([sys.executable, str(ROOT / "docs/examples/generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_failing_default_is_rendered_and_counted_once(tmp_path, caplog) -> None:
    """When the template that failed is also the fallback, it is not rendered (nor logged, nor counted) again."""
    import logging

    from router.render import Renderer
    from router.rules.model import Target
    from router.sentry import parse

    (tmp_path / "default.text.j2").write_text("{% block title %}{{ 1 / 0 }}{% endblock %}")
    caplog.set_level(logging.WARNING)
    event = parse(b'{"action":"happened","data":{}}', "brand_new")   # no template of its own: default first
    message = Renderer(str(tmp_path)).render(event, Target("log", "console", {}))
    assert message.title and sum("failed for" in r.getMessage() for r in caplog.records) == 1
