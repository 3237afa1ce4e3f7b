"""Webhook payloads made to order, for the CLI: a fresh event from a sample, fields set by dotted path."""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from collections.abc import Mapping
from importlib import resources
from typing import Any

from router.sentry.event import SUBJECT_PATHS

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEX = re.compile(r"[0-9a-f]{16,}", re.I)


class PathError(ValueError):
    """A dotted path that does not lead into the payload's objects."""


def renew(resource: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `payload` about a new subject (a new issue, event, incident…), so it is not a duplicate.

    Only the subject id changes (the id the router deduplicates on), kept in the same shape: a number stays a
    number, digits stay digits, a UUID stays a UUID. A resource without a known subject is copied unchanged
    (its body hash is its identity; the caller can set a field instead).
    """
    fresh = copy.deepcopy(dict(payload))
    path = SUBJECT_PATHS.get(resource)
    if not path:
        return fresh
    try:
        old = get_path(fresh, path)
    except PathError:
        return fresh
    set_path(fresh, path, new_id_like(old))
    return fresh


def new_id_like(old: Any) -> Any:
    """A random id shaped like `old`."""
    text = str(old)
    if isinstance(old, int) and not isinstance(old, bool):
        return random.randrange(10 ** 9, 10 ** 10)
    if _UUID.fullmatch(text):
        return str(uuid.uuid4())
    if _HEX.fullmatch(text):
        return uuid.uuid4().hex[: len(text)].ljust(len(text), "0")
    if text.isdigit():
        return str(random.randrange(10 ** 9, 10 ** 10))
    return f"{text}-{uuid.uuid4().hex[:8]}" if text else uuid.uuid4().hex


def get_path(payload: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of the raw payload (`data.issue.level`; list indices allowed)."""
    obj: Any = payload
    for key in path.split("."):
        obj = _step(obj, key, path)
    return obj


def set_path(payload: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path, creating missing objects on the way (`data.issue.level: error`)."""
    *parents, last = path.split(".")
    obj: Any = payload
    for key in parents:
        if isinstance(obj, dict) and key not in obj:
            obj[key] = {}
        obj = _step(obj, key, path)
    if isinstance(obj, dict):
        obj[last] = value
    elif isinstance(obj, list) and (i := _index(obj, last)) is not None:
        obj[i] = value
    else:
        raise PathError(f"{path}: {last!r} cannot be set inside {type(obj).__name__}")


def _step(obj: Any, key: str, path: str) -> Any:
    if isinstance(obj, dict) and key in obj:
        return obj[key]
    if isinstance(obj, list) and (i := _index(obj, key)) is not None:
        return obj[i]
    raise PathError(f"{path}: no {key!r} here")


def _index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit() and -len(items) <= int(key) < len(items):
        return int(key)
    return None


def sample_names() -> list[str]:
    """The bundled sample payloads, as RESOURCE.ACTION[.variant] names."""
    folder = resources.files("router") / "samples"
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def load_sample(name: str) -> tuple[str, dict[str, Any]]:
    """A bundled sample's resource and payload; KeyError naming the choices when there is none by that name."""
    if name not in sample_names():
        raise KeyError(f"no bundled sample {name!r} (one of: {', '.join(sample_names())})")
    payload = json.loads((resources.files("router") / "samples" / f"{name}.json").read_text("utf-8"))
    return name.split(".")[0], payload
