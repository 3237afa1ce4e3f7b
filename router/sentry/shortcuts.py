"""Sentry-aware shortcuts (DESIGN 1.4): project, level, environment, title, issue_id, tags… found the same way
whatever the resource, for rules to match and templates to show."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PROJECT_IN_API_URL = re.compile(r"/projects/[^/]+/(?P<slug>[^/]+)/events/")
# metric alerts carry severity in the action, not in a level field
_METRIC_LEVEL = {"critical": "fatal", "warning": "warning", "resolved": "info", "open": "warning"}
# resource -> the key in `data` of the object it is about (the others are about `data` itself)
_MAIN_OBJECT = {"issue": "issue", "activity_alert": "issue", "error": "error", "event_alert": "event",
                "metric_alert": "metric_alert", "installation": "installation"}


def dig(obj: Any, *keys: str | int) -> Any:
    """The value at `keys` inside nested mappings and lists (negative indices allowed), or None."""
    for key in keys:  # dict first: the ABC check is slow
        if (type(obj) is dict or isinstance(obj, Mapping)) and key in obj:  # noqa: SIM114 - each arm narrows obj
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _main_object(resource: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object a resource is about: the issue, the error event, the incident…"""
    key = _MAIN_OBJECT.get(resource)
    obj = data.get(key) if key else data
    return obj if type(obj) is dict or isinstance(obj, Mapping) else {}


def _tags(raw: Any) -> dict[str, Any]:
    """Event tags arrive as [key, value] pairs (or {key, value} objects); give them as a mapping."""
    tags: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            tags[str(item[0])] = item[1]
        elif isinstance(item, Mapping) and "key" in item:
            tags[str(item["key"])] = item.get("value")
    if isinstance(raw, Mapping):
        tags.update({str(k): v for k, v in raw.items()})
    return tags


def _project(data: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
    project = obj.get("project")
    if isinstance(project, Mapping):
        return project.get("slug")
    for url_key in ("url", "issue_url"):
        m = _PROJECT_IN_API_URL.search(str(obj.get(url_key) or ""))
        if m:
            return m["slug"]
    projects = obj.get("projects") or dig(obj, "alert_rule", "projects")
    if isinstance(projects, list) and projects:
        return projects[0]
    return data.get("project_slug") or data.get("projectSlug")


def _level(resource: str, action: str, obj: Mapping[str, Any]) -> Any:
    if resource == "metric_alert":
        return _METRIC_LEVEL.get(action)
    level = obj.get("level")
    return level.lower() if isinstance(level, str) else None


# every shortcut a rule or template may name (extract gives those the payload has)
NAMES = ("project", "level", "environment", "title", "issue_id", "short_id", "culprit", "release", "url",
         "assignee", "triggered_rule", "tags")


def extract(resource: str, action: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The shortcuts of a webhook (`data` is its payload's data); absent ones are left out."""
    obj, res = _main_object(resource, data), resource
    values: dict[str, Any] = {
        "project": _project(data, obj),
        "level": _level(resource, action, obj),
        "environment": obj.get("environment") or dig(obj, "alert_rule", "environment"),
        "title": (data.get("description_title") if res == "metric_alert" else None)
        or obj.get("title") or dig(data, "appInfo", "name"),
        "issue_id": obj.get("id") if res in ("issue", "activity_alert")
        else obj.get("issue_id") or data.get("issue_id") or data.get("group_id"),
        "short_id": obj.get("shortId"),
        "culprit": obj.get("culprit"),
        "release": obj.get("release") or dig(data, "appInfo", "version"),
        # a page, never an API address (activity alerts' `alert.url`, preprod's `installUrl` download endpoint)
        "url": obj.get("web_url") or data.get("web_url") or obj.get("permalink") or dig(data, "alert", "web_url"),
        "assignee": dig(data, "assignee", "name") or dig(obj, "assignedTo", "name"),
        "triggered_rule": data.get("triggered_rule") or dig(obj, "alert_rule", "name"),
    }
    if res in ("error", "event_alert"):
        values["tags"] = _tags(obj.get("tags"))
    if values["issue_id"] is not None:
        values["issue_id"] = str(values["issue_id"])
    return {k: v for k, v in values.items() if v not in (None, "")}
