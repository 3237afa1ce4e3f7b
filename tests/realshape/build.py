"""Writes tests/realshape/*.json: webhook bodies shaped as Sentry's own senders build them (SOURCES.md says which).

    .venv/bin/python tests/realshape/build.py

Each file is `{"resource": …, "body": {action, installation, data, actor}}`; tests sign the exact compact bytes
Sentry would send (`sentry.encode_like_sentry`). Pairs that must both notify share a subject id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORG, BASE = "acme", "https://acme.sentry.io"
INSTALL = {"uuid": "5b1e2c1d-7f3a-4c1e-9a57-2f0d1c3b4e6a"}
SENTRY_ACTOR = {"type": "application", "id": "sentry", "name": "Sentry"}
DANA = {"type": "user", "id": 17, "name": "Dana Scully"}
FOX = {"type": "user", "id": 18, "name": "Fox Mulder"}
PROJECT = {"id": "4509877862268928", "name": "api", "slug": "api", "platform": "python"}


def group(gid: str = "6021374455", **over: Any) -> dict[str, Any]:
    """The plain group serializer (`serialize(group)`, BaseGroupSerializerResponse) as workflow_notification sends
    it: no url/web_url/project_url and, without a request, `permalink: null`."""
    g = {"id": gid, "shareId": None, "shortId": "API-3K", "title": "KeyError: 'customer_id'",
         "culprit": "billing.invoices in render_invoice", "permalink": None, "logger": None, "level": "error",
         "status": "unresolved", "statusDetails": {}, "substatus": "ongoing", "isPublic": False,
         "platform": "python", "project": PROJECT, "type": "error",
         "metadata": {"type": "KeyError", "value": "'customer_id'", "filename": "billing/invoices.py",
                      "function": "render_invoice", "in_app_frame_mix": "in-app-only", "initial_priority": 75},
         "numComments": 0, "assignedTo": None, "isBookmarked": False, "isSubscribed": False,
         "subscriptionDetails": None, "hasSeen": False, "annotations": [], "issueType": "error",
         "issueCategory": "error", "priority": "high", "priorityLockedAt": None, "seerFixabilityScore": None,
         "seerAutofixLastTriggered": None, "isUnhandled": True, "count": "42", "userCount": 7,
         "firstSeen": "2026-11-28T09:12:44.120000Z", "lastSeen": "2026-11-29T14:02:10.431000Z"}
    g.update(over)
    return g


def webhook_group(**over: Any) -> dict[str, Any]:
    """`_webhook_issue_data`: the group plus url, web_url, project_url (issue.created, activity_alert)."""
    g = group(**over)
    gid = g["id"]
    return {"url": f"{BASE}/api/0/organizations/{ORG}/issues/{gid}/", "web_url": f"{BASE}/issues/{gid}/",
            "project_url": f"{BASE}/issues/?project={PROJECT['id']}", **{**g, "permalink": f"{BASE}/issues/{gid}/"}}


def body(action: str, data: dict[str, Any], actor: dict[str, Any] | None = SENTRY_ACTOR) -> dict[str, Any]:
    """AppPlatformEvent.body: action, installation {uuid}, data, actor."""
    out: dict[str, Any] = {"action": action, "installation": INSTALL, "data": data}
    if actor is not None:
        out["actor"] = actor
    return out


def event(event_id: str, level: str = "error") -> dict[str, Any]:
    """`_webhook_event_data`: event.as_dict() plus url, web_url, issue_url, issue_id."""
    gid = "6021374455"
    return {
        "event_id": event_id, "project": 4509877862268928, "release": "api@2.4.1", "dist": None,
        "platform": "python", "message": "", "datetime": "2026-11-29T14:02:10.431000Z", "tags": [
            ["environment", "production"], ["handled", "no"], ["level", level], ["release", "api@2.4.1"],
            ["server_name", "web-7"], ["url", "https://api.acme.test/invoices/88"]],
        "_metrics": {"bytes.ingested.event": 5021, "bytes.stored.event": 7313},
        "contexts": {"runtime": {"name": "CPython", "version": "3.12.7", "type": "runtime"}},
        "culprit": "billing.invoices in render_invoice", "environment": "production",
        "exception": {"values": [{"type": "KeyError", "value": "'customer_id'", "mechanism": {
            "type": "generic", "handled": False}, "stacktrace": {"frames": [
                {"function": "render_invoice", "module": "billing.invoices", "filename": "billing/invoices.py",
                 "abs_path": "/srv/api/billing/invoices.py", "lineno": 88, "in_app": True,
                 "context_line": "    customer = row['customer_id']", "pre_context": [], "post_context": [],
                 "vars": {"row": "{'id': 88}"}}]}}]},
        "fingerprint": ["{{ default }}"], "grouping_config": {"id": "newstyle:2023-01-11", "enhancements": "x"},
        "hashes": ["3f0a8e3ad5d8a9b1c2e4d6f708192a3b"], "level": level, "location": "billing/invoices.py",
        "logger": "", "metadata": {"type": "KeyError", "value": "'customer_id'"}, "received": 1796033330.43,
        "sdk": {"name": "sentry.python.django", "version": "2.19.0"}, "timestamp": 1796033330.431,
        "title": "KeyError: 'customer_id'", "type": "error", "version": "7",
        "url": f"{BASE}/api/0/projects/{ORG}/api/events/{event_id}/",
        "web_url": f"{BASE}/organizations/{ORG}/issues/{gid}/events/{event_id}/",
        "issue_url": f"{BASE}/api/0/organizations/{ORG}/issues/{gid}/", "issue_id": gid}


def incident(status: int, action_status: str) -> dict[str, Any]:
    """IncidentSerializer output, snake-cased (build_incident_attachment)."""
    return {"id": "9312", "identifier": "118", "organization_id": "1", "projects": ["api"],
            "alert_rule": {"id": "402", "name": "API error rate", "organization_id": "1", "status": 0,
                           "query_type": 0, "dataset": "events", "query": "event.type:error",
                           "aggregate": "count()", "threshold_type": 0, "resolve_threshold": None,
                           "time_window": 10.0, "environment": "production", "triggers": [],
                           "projects": ["api"], "owner": None, "date_modified": "2026-10-01T10:00:00.000000Z",
                           "date_created": "2026-10-01T10:00:00.000000Z", "created_by": None,
                           "description": "", "detection_type": "static"},
            "activities": None, "status": status, "status_method": 3, "type": 2, "title": "API error rate",
            "date_started": "2026-11-29T13:50:00.000000Z", "date_detected": "2026-11-29T13:50:00.000000Z",
            "date_created": "2026-11-29T13:50:01.120000Z", "date_closed": None if action_status != "resolved"
            else "2026-11-29T14:20:00.000000Z"}


def metric(action: str, status: int, text: str, uuid: str) -> dict[str, Any]:
    """metric_alert.<action>: the incident attachment (metric value, title, link with notification_uuid)."""
    title = {"critical": "Critical", "warning": "Warning", "resolved": "Resolved"}[action]
    return body(action, {
        "metric_alert": incident(status, action), "description_text": text,
        "description_title": f"{title}: API error rate",
        "web_url": f"{BASE}/organizations/{ORG}/alerts/rules/details/402/?alert=118&referrer=metric_alert_sentry_app"
                   f"&detection_type=static&notification_uuid={uuid}"})


def activity(atype: str, details: dict[str, Any]) -> dict[str, Any]:
    """activity_alert.triggered (SentryAppActivityHandler): issue, activity {type, details}, alert (workflow)."""
    return body("triggered", {
        "issue": webhook_group(), "activity": {"type": atype, "details": details},
        "alert": {"id": 77, "title": "Seer and status changes", "sentry_app_id": 12,
                  "url": f"{BASE}/api/0/organizations/{ORG}/workflows/77/",
                  "web_url": f"{BASE}/organizations/{ORG}/monitors/alerts/77/"}})


def seer(action: str, **data: Any) -> dict[str, Any]:
    """seer.<action> (broadcast_webhooks_for_organization): run_id, group_id and the step's findings."""
    return body(action, {"run_id": 5531, "group_id": 6021374455, **data})


def preprod(action: str, **over: Any) -> dict[str, Any]:
    """preprod_artifact.<action>, as the preprod webhook serializer builds it; failures keep the shape."""
    data = {"buildId": "412", "organizationSlug": ORG, "projectId": PROJECT["id"], "projectSlug": "ios-app",
            "platform": "APPLE", "state": "FAILED", "appInfo": {"appId": None, "name": None, "version": None,
                                                               "buildNumber": None, "artifactType": None,
                                                               "dateAdded": "2026-11-29T13:00:00+00:00",
                                                               "dateBuilt": None},
            "gitInfo": {"headSha": "16bee14a5a68d4bb89c48735264b384223754fae", "baseSha": None,
                        "provider": "github", "headRepoName": "acme/ios-app", "baseRepoName": None,
                        "headRef": "feature/checkout", "baseRef": None, "prNumber": None},
            "errorCode": "TIMEOUT", "errorMessage": "Size analysis timed out after 30 minutes"}
    data.update(over)
    return body(action, data)


RESOLVED_BY = {"id": "17", "name": "Dana Scully", "username": "dana", "email": "dana@acme.test"}


def corpus() -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (resource, body)."""
    c: dict[str, tuple[str, dict[str, Any]]] = {}
    c["installation.created"] = ("installation", body("created", {"installation": {
        "app": {"uuid": "0e5b4cd2-3f17-4d87-a0a4-9d6c08c4f7aa", "slug": "sentry-router"},
        "organization": {"slug": ORG}, "uuid": INSTALL["uuid"], "status": "installed",
        "code": "6cf2f0d0e5a64c8cb07c3b8ac7b0ef41"}}, DANA))
    c["issue.created"] = ("issue", body("created", {"issue": webhook_group(substatus="new", count="1", userCount=1)}))
    c["issue.created.performance_info"] = ("issue", body("created", {"issue": webhook_group(
        gid="6021379001", shortId="API-3M", title="N+1 Query", culprit="/invoices/{id}", level="info",
        type="performance_n_plus_one_db_queries", issueType="performance_n_plus_one_db_queries",
        issueCategory="performance", substatus="new", metadata={"title": "N+1 Query", "value": "SELECT …"},
        count="3", userCount=0)}))
    team = {"type": "team", "id": "4", "name": "backend"}
    c["issue.assigned.team"] = ("issue", body("assigned", {
        "assignee": {"type": "team", "name": "backend", "id": 4}, "issue": group(assignedTo=team)}, DANA))
    c["issue.assigned.user"] = ("issue", body("assigned", {
        "assignee": {"type": "user", "name": "Fox Mulder", "id": 18, "email": "fox@acme.test"},
        "issue": group(assignedTo={"type": "user", "id": "18", "name": "Fox Mulder", "email": "fox@acme.test"})},
        DANA))
    c["issue.resolved.in_release"] = ("issue", body("resolved", {"resolution_type": "in_release", "issue": group(
        status="resolved", substatus=None, statusDetails={"inRelease": "api@2.4.1", "actor": RESOLVED_BY})}, DANA))
    c["issue.resolved.in_next_release"] = ("issue", body("resolved", {"resolution_type": "in_next_release",
                                                                      "issue": group(
        status="resolved", substatus=None, statusDetails={"inNextRelease": True, "actor": RESOLVED_BY})}, DANA))
    c["issue.resolved.now"] = ("issue", body("resolved", {"resolution_type": "now", "issue": group(
        status="resolved", substatus=None)}, DANA))
    c["issue.unresolved.escalating"] = ("issue", body("unresolved", {"issue": group(substatus="escalating")},
                                                      SENTRY_ACTOR))
    c["issue.unresolved.regressed"] = ("issue", body("unresolved", {"issue": group(substatus="regressed")},
                                                     SENTRY_ACTOR))
    ignored = group(status="ignored", substatus="archived_until_escalating",
                    statusDetails={"ignoreUntilEscalating": True})
    c["issue.ignored"] = ("issue", body("ignored", {"issue": ignored}, DANA))
    c["issue.archived"] = ("issue", body("archived", {"issue": ignored}, DANA))
    c["error.created"] = ("error", body("created", {"error": event("d3f1c2b4a5e64f7890ab1c2d3e4f5a6b")}))
    ev = event("8c1e0a7f5d2b4e39a6c7d8e9f0a1b2c3", "fatal")
    c["event_alert.triggered.rule_a"] = ("event_alert", body("triggered", {"event": ev,
                                                                           "triggered_rule": "Page on fatal"}))
    c["event_alert.triggered.rule_b"] = ("event_alert", body("triggered", {
        "event": ev, "triggered_rule": "Billing errors to Slack",
        "issue_alert": {"id": 311, "title": "Billing errors to Slack", "sentry_app_id": 12,
                        "settings": [{"name": "channel", "value": "#billing"}]}}))
    c["metric_alert.critical"] = ("metric_alert",
                                  metric("critical", 20, "1204 events in the last 10 minutes\\nThreshold: 1000",
                                                         "5a0e1c6d-5b54-4f1d-bf3d-8f2c1e0a9b11"))
    c["metric_alert.warning"] = ("metric_alert", metric("warning", 10, "640 events in the last 10 minutes",
                                                        "0c2d7e58-1a47-4a7b-9b0e-3e6f5a4d2c22"))
    c["metric_alert.critical.again"] = ("metric_alert", metric("critical", 20, "1530 events in the last 10 minutes",
                                                               "93f4b2a1-6c8d-4e2f-a1b0-7d9c5e3f4a33"))
    c["metric_alert.resolved"] = ("metric_alert", metric("resolved", 2, "12 events in the last 10 minutes",
                                                         "e7a6c5b4-3d2e-4f1a-8b9c-0d1e2f3a4b44"))
    comment = {"comment_id": 90210, "issue_id": 6021374455, "project_slug": "api",
               "timestamp": "2026-11-29T14:05:00.000000Z"}
    c["comment.created"] = ("comment", body("created", {**comment, "comment": "Looking into it"}, DANA))
    c["comment.updated.first"] = ("comment", body("updated", {**comment, "comment": "Looking into it (billing)"},
                                                  DANA))
    c["comment.updated.second"] = ("comment", body("updated", {**comment, "comment": "Fixed in api@2.4.1"}, DANA))
    c["comment.deleted"] = ("comment", body("deleted", {**comment, "comment": "Fixed in api@2.4.1"}, DANA))
    user = {"id": 17, "name": "Dana Scully", "username": "dana"}
    c["activity_alert.seer_root_cause_completed"] = ("activity_alert", activity(
        "seer_root_cause_completed", {"summary": "`row` comes from a legacy export without `customer_id`."}))
    c["activity_alert.seer_solution_completed"] = ("activity_alert", activity(
        "seer_solution_completed", {"summary": "Default `customer_id` from the invoice's account."}))
    c["activity_alert.seer_pr_created"] = ("activity_alert", activity("seer_pr_created", {"pull_requests": [
        {"repo_name": "acme/api", "url": "https://github.com/acme/api/pull/812"}]}))
    c["activity_alert.seer_pr_iteration_completed"] = ("activity_alert", activity(
        "seer_pr_iteration_completed", {"pull_requests": [{"repo_name": "acme/api",
                                                           "url": "https://github.com/acme/api/pull/812"}],
                                        "iteration_index": 1}))
    c["activity_alert.status_resolved"] = ("activity_alert", activity("status_resolved", {"user": user}))
    c["activity_alert.status_resolved_in_release"] = ("activity_alert", activity("status_resolved_in_release",
                                                                                 {"user": user}))
    c["activity_alert.status_regression"] = ("activity_alert", activity("status_regression", {}))
    c["activity_alert.status_escalating"] = ("activity_alert", activity("status_escalating", {}))
    c["seer.root_cause_completed"] = ("seer", seer("root_cause_completed", root_cause={
        "description": "`row` comes from a legacy export without `customer_id`.", "steps": [
            {"title": "Legacy export rows lack customer_id", "code_snippet_and_analysis": "`row['customer_id']`",
             "timeline_item_type": "internal_code", "relevant_code_file": {
                 "file_path": "billing/invoices.py", "repo_name": "acme/api"}, "is_most_important_event": True}]}))
    c["seer.coding_completed.no_branch"] = ("seer", seer("coding_completed", changes=[{
        "repo_name": "acme/api", "repo_external_id": "77120", "title": "fix: default customer_id",
        "description": "Fall back to the invoice's account.", "diff": "--- a/billing/invoices.py\n+++ b/…"}]))
    c["seer.pr_created.flat"] = ("seer", seer("pr_created", pull_requests=[
        {"repo_name": "acme/api", "provider": "github", "pr_number": 812,
         "pr_url": "https://github.com/acme/api/pull/812", "pr_id": 2210033}]))
    c["seer.iteration_completed.1"] = ("seer", seer("iteration_completed", iteration_index=1, pull_requests=[
        {"repo_name": "acme/api", "pull_request": {"pr_number": 812, "pr_url": "https://github.com/acme/api/pull/812",
                                                   "pr_id": 2210033}}]))
    c["seer.iteration_completed.2"] = ("seer", seer("iteration_completed", iteration_index=2, pull_requests=[
        {"repo_name": "acme/api", "pull_request": {"pr_number": 812, "pr_url": "https://github.com/acme/api/pull/812",
                                                   "pr_id": 2210033}}]))
    c["preprod_artifact.size_analysis_completed.failed"] = ("preprod_artifact", preprod(
        "size_analysis_completed", downloadSize=None, installSize=None, analysisDuration=None,
        analysisVersion=None, baseBuildId=None, baseAppInfo=None, comparisons=[]))
    c["preprod_artifact.build_distribution_completed.failed"] = ("preprod_artifact", preprod(
        "build_distribution_completed", errorCode="UNSUPPORTED_ARTIFACT", errorMessage=None,
        buildConfiguration=None, isInstallable=False, installUrl=None, isCodeSignatureValid=None,
        profileName=None, codesigningType=None))
    return c


def main() -> None:
    """Write every corpus file (sorted keys kept as built: Sentry's order is restored at signing)."""
    for old in HERE.glob("*.json"):
        old.unlink()
    for name, (resource, payload) in corpus().items():
        (HERE / f"{name}.json").write_text(json.dumps({"resource": resource, "body": payload}, indent=1) + "\n")


if __name__ == "__main__":
    main()
