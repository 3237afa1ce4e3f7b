"""The human-facing facts read out of Sentry payloads (router/sentry/details.py), over the fixtures in
tests/fixtures/."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from router.channels.slack.cards import card_subject
from router.sentry import build, details
from router.sentry.details import Actor, Build, Resolution, SeerChange, SeerFindings, SeerPullRequest, SeerRun
from tests.conftest import ALL_FIXTURES, fixture_payload


def event(name: str, **data: Any) -> Any:
    """The fixture `name` as a SentryEvent, with `data` merged into its payload's data."""
    payload = copy.deepcopy(fixture_payload(name))
    payload["data"].update(data)
    return build(name.split(".")[0], payload)


@pytest.mark.parametrize("name, expected", [
    ("comment.created", Actor("colleen", "user", "1")),
    ("installation.created", Actor("Meredith Heller", "user", "1")),
    ("issue.created", Actor("Example App", "application", "example-app")),
    ("error.created", Actor("Sentry", "application", "sentry")),
    ("issue.resolved", Actor(None, None, None)),               # no actor in the payload
])
def test_actor(name: str, expected: Actor) -> None:
    """The actor's name, type and id come out as strings (ids too), or None when absent."""
    assert details.actor(event(name)) == expected


@pytest.mark.parametrize("name, is_user, is_sentry", [
    ("comment.created", True, False), ("issue.created", False, False), ("error.created", False, True),
])
def test_actor_kinds(name: str, is_user: bool, is_sentry: bool) -> None:
    """A user is a person; Sentry's own automation (alerts) has the id `sentry`."""
    actor = details.actor(event(name))
    assert (actor.is_user, actor.is_sentry) == (is_user, is_sentry)


@pytest.mark.parametrize("name, organization, app_slug, alert_title, branch", [
    ("installation.created", "test-org", "webhooks-galore", None, None),    # in data.installation
    ("comment.deleted", "example", None, None, None),                       # in the envelope's installation
    ("comment.created", None, None, None, None),
    ("activity_alert.triggered", None, None, "I'm keeping an eye on Seer 👀", None),
    ("preprod_artifact.size_analysis_completed", None, None, None, "feature-branch"),
])
def test_envelope_and_simple_facts(name: str, organization: str | None, app_slug: str | None,
                                   alert_title: str | None, branch: str | None) -> None:
    """Organization slug, app slug, activity alert title and git branch are found where each resource keeps them."""
    ev = event(name)
    assert (details.organization(ev), details.app_slug(ev), details.alert_title(ev), details.git_branch(ev)) \
        == (organization, app_slug, alert_title, branch)


@pytest.mark.parametrize("name, data, expected", [
    ("comment.created", {}, "adding a comment"),
    ("metric_alert.critical", {}, "5 events in the last 10 minutes"),
    ("activity_alert.triggered", {}, "Synthetic test error deliberately fired by error-generator.sentry.dev in a "
                                     "batch of 24 against the error-gen project"),
    ("error.created", {}, None),                                              # empty message
    ("error.created", {"error": {"message": "boom", "title": "Error"}}, "boom"),
    ("error.created", {"error": {"message": "Error", "title": "Error"}}, None),   # repeats the title
    ("event_alert.triggered", {"event": {"message": "boom", "title": "Error"}}, "boom"),
    ("issue.created", {}, None),
    ("comment.created", {"comment": ""}, None),
])
def test_summary_text(name: str, data: dict[str, Any], expected: str | None) -> None:
    """The event's own words per resource; an error's message only when it differs from its title."""
    assert details.summary_text(event(name, **data)) == expected


@pytest.mark.parametrize("name, data, expected", [
    ("issue.resolved", {}, Resolution(None, None)),
    ("issue.resolved", {"issue": {"statusDetails": {"inRelease": "api@2.4.1"}}}, Resolution("api@2.4.1", None)),
    ("issue.resolved", {"issue": {"statusDetails": {"inRelease": "latest"}}}, Resolution("latest", None)),
    ("issue.resolved", {"resolution_type": "in_next_release"}, Resolution(None, "in_next_release")),
])
def test_resolution(name: str, data: dict[str, Any], expected: Resolution) -> None:
    """The release an issue was resolved in, else its resolution type."""
    assert details.resolution(event(name, **data)) == expected


@pytest.mark.parametrize("name, expected", [
    ("activity_alert.triggered", "escalating"), ("issue.unresolved.reconstructed", "regressed"),
    ("issue.created", "new"), ("issue.resolved", None),
])
def test_substatus(name: str, expected: str | None) -> None:
    """The issue's substatus, which tells an escalation from a regression."""
    assert details.substatus(event(name)) == expected


@pytest.mark.parametrize("name, expected", [
    ("seer.root_cause_completed", SeerRun(SeerFindings("Woah wow there's a bug here.", (
        "User navigates to the dashboard page, initiating page load.",
        "Next.js server renders the /dashboard route.")), (), ())),
    ("seer.solution_completed", SeerRun(SeerFindings("Definitely need to fix this.", (
        "Go fix it", "Then go fix this other thing.")), (), ())),
    ("seer.coding_completed", SeerRun(None, (
        SeerChange("fix: Initialize undefined variable", "my-app", "seer/fix-this-thing"),), ())),
    ("seer.pr_created", SeerRun(None, (), (
        SeerPullRequest("123", "my-app", "https://github.com/owner/repo/pull/123"),))),
    ("seer.coding_started", SeerRun(None, (), ())),
    ("issue.created", SeerRun(None, (), ())),                                 # not a Seer webhook
])
def test_seer(name: str, expected: SeerRun) -> None:
    """Seer's findings (root cause, else solution) with step titles, code changes and pull requests."""
    assert details.seer(event(name)) == expected


def test_seer_skips_malformed_entries() -> None:
    """Steps without a title and changes or pull requests that are not objects are left out."""
    run = details.seer(event("seer.coding_completed", changes=["x", {"title": "t"}], pull_requests="nope"))
    assert run.changes == (SeerChange("t", None, None),) and run.pull_requests == ()


@pytest.mark.parametrize("name, data, expected", [
    ("preprod_artifact.size_analysis_completed", {},
     Build("MyApp", "1.0", "2", "APPLE", "XCARCHIVE", None, None, False, True, 30806016, 28864215)),
    ("preprod_artifact.build_distribution_completed", {},
     Build("MyApp", "1.0", "1", "ANDROID", "AAB", None, None, False, False, None, None)),
    ("preprod_artifact.build_distribution_completed", {"errorMessage": "upload failed", "installSize": "big"},
     Build("MyApp", "1.0", "1", "ANDROID", "AAB", "upload failed", None, False, True, None, None)),
])
def test_build_info(name: str, data: dict[str, Any], expected: Build) -> None:
    """A preprod build's app, version, build number, platform, error and sizes (numbers only)."""
    assert details.build_info(event(name, **data)) == expected


@pytest.mark.parametrize("name, expected", [
    ("issue.created", ("issue", "1234567890")),
    ("error.created", ("issue", "1170820242")),
    ("comment.created", ("issue", "100")),
    ("activity_alert.triggered", ("issue", "43")),
    ("seer.pr_created", ("issue", "1170820242")),
    ("metric_alert.critical", ("incident", "789")),
    ("metric_alert.resolved", ("incident", "4")),
    ("installation.created", None),
    ("preprod_artifact.size_analysis_completed", None),
])
def test_card_subject(name: str, expected: tuple[str, str] | None) -> None:
    """A Slack card is about a Sentry issue, or a metric alert's incident; other events have no card."""
    assert card_subject(event(name)) == expected


@pytest.mark.parametrize("name, expected", [
    ("metric_alert.critical", "789"), ("metric_alert.resolved", "4"), ("issue.created", None), ("error.created", None),
])
def test_incident_id(name: str, expected: str | None) -> None:
    """A metric alert's incident id, as text; other events have none."""
    assert details.incident_id(event(name)) == expected


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_every_fixture_gives_plain_values(name: str) -> None:
    """On every fixture each extraction answers without error, with strings (or None) for text."""
    ev = event(name)
    texts = [details.organization(ev), details.app_slug(ev), details.alert_title(ev), details.git_branch(ev),
             details.summary_text(ev), details.substatus(ev), *vars(details.actor(ev)).values(),
             *vars(details.resolution(ev)).values()]
    assert all(t is None or (isinstance(t, str) and t) for t in texts)
    assert isinstance(details.seer(ev), SeerRun) and isinstance(details.build_info(ev), Build)
    assert card_subject(ev) in (None, ("issue", ev.shortcuts.get("issue_id")),
                                        ("incident", str(ev.data.get("metric_alert", {}).get("id"))))
