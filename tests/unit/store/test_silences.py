"""Silences: validation of a new silence (key paths), and their store, table-driven over SQLite and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.rules.silence import SilenceError, new_silence, rfc3339
from router.store import Store
from router.store.redis import RedisStore
from router.store.silences import RECENT, active, silences_of
from router.store.sqlite import SqliteStore
from tests.fakes.redis_server import RedisServer, redis_server  # noqa: F401  (fixture)

NOW = 1_800_000_000.0


@pytest.mark.parametrize("spec, error", [
    ({"match": {"level": {"gtee": "error"}}, "duration": "1h"}, 'match.level: unknown operator "gtee"'),
    ({"match": {"any": [{"projct": "api"}]}, "duration": "1h"}, "match.any.0.projct: unknown field"),
    ({"match": {"title": {"regex": "("}}, "duration": "1h"}, "match.title.regex: bad regular expression"),
    ({"match": {}, "duration": "1h"}, "match: expected a non-empty object"),
    ({"duration": "1h"}, "match: missing"),
    ({"match": {"project": "api"}}, "duration: missing: a silence needs an end"),
    ({"match": {"project": "api"}, "duration": "soon"}, 'duration: expected a duration like 30m, 2h, 1d, got "soon"'),
    ({"match": {"project": "api"}, "duration": "0s"}, "duration: expected a duration"),
    ({"match": {"project": "api"}, "ends_at": "tomorrow"}, "ends_at: expected an RFC 3339 time"),
    ({"match": {"project": "api"}, "ends_at": "2027-01-01T00:00:00"},
     "ends_at: expected an RFC 3339 time with an offset"),
    ({"match": {"project": "api"}, "ends_at": rfc3339(NOW - 1)}, "is not after the start"),
    ({"match": {"project": "api"}, "duration": "1h", "ends_at": rfc3339(NOW + 60)},
     "give duration or ends_at, not both"),
    ({"match": {"project": "api"}, "until_resolved": True}, "until_resolved: needs match.issue_id"),
    ({"match": {"issue_id": "1"}, "until_resolved": "yes"}, "until_resolved: expected true or false"),
    ({"match": {"project": "api"}, "duration": "1h", "reason": 7}, "reason: expected text"),
    ({"match": {"project": "api"}, "duration": "1h", "comment": "x"}, "comment: unknown key"),
    (["not", "an", "object"], "expected a JSON object"),
])
def test_invalid_silence_names_its_key_path(spec: Any, error: str) -> None:
    """Every invalid silence is refused with a message that starts at the key path of what is wrong."""
    with pytest.raises(SilenceError) as err:
        new_silence(spec, NOW, "s1")
    assert any(line.startswith(error) or error in line for line in err.value.errors), err.value.errors


@pytest.mark.parametrize("spec, ends_at, issue", [
    ({"match": {"project": "api"}, "duration": "2h"}, NOW + 7200, ""),
    ({"match": {"project": "api"}, "ends_at": "2027-01-15T10:00:00+01:00"}, NOW + 3600, ""),  # NOW: 08:00Z
    ({"match": {"issue_id": 42}, "until_resolved": True}, None, "42"),
    ({"match": {"issue_id": "42"}, "until_resolved": True, "duration": "1d"}, NOW + 86400, "42"),
])
def test_valid_silence_ends(spec: dict[str, Any], ends_at: float | None, issue: str) -> None:
    """A duration counts from the start; ends_at is read with its offset; until_resolved names the issue."""
    silence = new_silence(spec, NOW, "s")
    assert silence.ends_at == ends_at and silence.issue_id == issue and silence.active(NOW)


@pytest.fixture(params=["sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two handles on one fresh store of each kind, as two processes would hold them."""
    if request.param == "sqlite":
        path = str(tmp_path / "var" / "router.sqlite3")
        yield SqliteStore(path), SqliteStore(path)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        yield RedisStore(server.url), RedisStore(server.url)


def test_a_silence_added_in_one_process_is_seen_by_another(stores: tuple[Store, Store]) -> None:
    """Silences live in the shared store: one handle adds, the other lists it active at once."""
    one, other = (silences_of(s) for s in stores)
    one.add(new_silence({"match": {"project": "api"}, "duration": "1h", "reason": "deploy"}, NOW, "s1"))
    seen = active(other, NOW + 1)
    assert [s.id for s in seen] == ["s1"] and seen[0].reason == "deploy" and seen[0].match == {"project": "api"}


def test_end_stops_a_silence_once(stores: tuple[Store, Store]) -> None:
    """Ending a silence makes it inactive everywhere, is listed as ended, and a second end says so (None)."""
    one, other = (silences_of(s) for s in stores)
    one.add(new_silence({"match": {"project": "api"}, "duration": "1h"}, NOW, "s1"))
    ended = other.end("s1", NOW + 60, "expired")
    assert ended is not None and ended.ended_at == NOW + 60 and ended.ended_why == "expired"
    assert active(one, NOW + 61) == [] and [s.id for s in one.listed(NOW + 61)] == ["s1"]
    assert one.end("s1", NOW + 62, "expired") is None and one.end("nope", NOW, "expired") is None


def test_listing_shows_recently_ended_then_drops_them(stores: tuple[Store, Store]) -> None:
    """Ended silences are listed for RECENT seconds (newest first), and are gone after."""
    one = silences_of(stores[0])
    one.add(new_silence({"match": {"project": "a"}, "duration": "1h"}, NOW, "s1"))
    one.add(new_silence({"match": {"project": "b"}, "duration": "2h"}, NOW + 1, "s2"))
    assert [s.id for s in one.listed(NOW + 3600 + 5)] == ["s2", "s1"]
    assert [s.id for s in active(one, NOW + 3600 + 5)] == ["s2"]
    assert one.listed(NOW + 7200 + RECENT + 10) == []


def test_a_future_silence_is_listed_but_not_yet_active(stores: tuple[Store, Store]) -> None:
    """A silence with a later starts_at holds nothing back until then."""
    one = silences_of(stores[0])
    one.add(new_silence({"match": {"project": "a"}, "starts_at": rfc3339(NOW + 600), "duration": "1h"}, NOW, "s1"))
    assert active(one, NOW) == [] and [s.id for s in active(one, NOW + 600)] == ["s1"]
