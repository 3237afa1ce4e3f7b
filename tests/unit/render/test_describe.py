"""Wording on every real state (SENTRY.md "Payload facts"), the same in Slack, email and text."""

from __future__ import annotations

import json

import pytest

from router import sentry
from router.render import Renderer
from router.render.describe import style
from router.rules.model import Target
from tests.realshape import load

FORMS = {"slack": Target("oncall", "slack", {"channel": "#oncall"}), "email": Target("m", "email", {"to": ["a@b.c"]}),
         "text": Target("log", "console", {})}


def _event(name: str) -> sentry.SentryEvent:
    resource, payload = load(name)
    return sentry.build(resource, payload)


def _seen(name: str, form: str, sentry_url: str | None = "https://acme.sentry.io") -> str:
    m = Renderer(None, sentry_url=sentry_url).render(_event(name), FORMS[form])
    return "\n".join([m.title, m.text, m.html or "", json.dumps(m.blocks or [], ensure_ascii=False)])


# (payload, what every form must say, what no form may say)
CASES = [
    ("preprod_artifact.size_analysis_completed.failed", ["Size analysis failed", "TIMEOUT",
                                                         "Size analysis timed out after 30 minutes"], ["ready"]),
    ("preprod_artifact.build_distribution_completed.failed", ["Build distribution failed", "UNSUPPORTED_ARTIFACT"],
     ["ready to install", "installablepreprodartifact"]),
    ("issue.resolved.in_release", ["resolved in release api@2.4.1"], []),
    ("issue.resolved.in_next_release", ["resolved in the next release"], []),
    ("issue.unresolved.regressed", ["regressed"], []),
    ("issue.unresolved.escalating", ["escalating"], []),
    ("activity_alert.status_resolved", ["Issue resolved by Dana Scully", "https://acme.sentry.io/issues/6021374455/"],
     ["/api/0/"]),
    ("activity_alert.seer_pr_created", ["Seer opened a pull request", "https://github.com/acme/api/pull/812"],
     ["/api/0/"]),
    ("activity_alert.seer_root_cause_completed", ["Seer root cause ready", "legacy export"], []),
    ("seer.coding_completed.no_branch", ["fix: default customer_id (acme/api)"], ["branch"]),
    ("seer.pr_created.flat", ["#812", "https://github.com/acme/api/pull/812"], []),
    ("metric_alert.critical", ["1204 events in the last 10 minutes", "Threshold: 1000"], ["\\\\n"]),
    ("comment.created", ["Looking into it", "https://acme.sentry.io/issues/6021374455/"], []),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, says, never", CASES, ids=[c[0] for c in CASES])
def test_every_form_words_the_state(name: str, says: list[str], never: list[str], form: str) -> None:
    """Failures say they failed, resolves name their release, activities say what happened and link the page."""
    seen = _seen(name, form)
    for text in says:
        assert text in seen, (name, form, text)
    for text in never:
        assert text not in seen, (name, form, text)


def test_a_literal_backslash_n_in_a_metric_description_is_a_line_break() -> None:
    """Sentry's description_text may hold `\\n` as two characters: it reads as a new line."""
    text = Renderer(None).render(_event("metric_alert.critical"), FORMS["text"]).text
    assert "1204 events in the last 10 minutes\nThreshold: 1000" in text


def test_an_info_level_issue_is_not_shown_as_resolved() -> None:
    """Issue-platform issues (performance…) are created at level info: not the green ✅ of a resolve."""
    assert style(_event("issue.created.performance_info"))[0] != "✅"
    assert style(_event("issue.resolved.now"))[0] == "✅"


def test_without_sentry_url_a_comment_has_no_button_rather_than_a_bad_link() -> None:
    """Nothing better than the organisation root: no Open in Sentry button at all."""
    seen = _seen("comment.created", "slack", sentry_url=None)
    assert "Open in Sentry" not in seen
