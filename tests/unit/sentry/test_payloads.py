"""Payloads made to order (router/sentry/payloads.py): fresh subjects, fields set by dotted path, samples."""

from __future__ import annotations

import pytest

from router.sentry import SUBJECT_PATHS, encode_like_sentry, parse
from router.sentry.payloads import PathError, get_path, load_sample, new_id_like, renew, sample_names, set_path


@pytest.mark.parametrize("name", [n for n in sample_names() if n.split(".")[0] in SUBJECT_PATHS])
def test_renew_gives_every_sample_a_new_subject(name: str) -> None:
    """A renewed sample is about a new subject (so not a duplicate), and the original is left as it was."""
    resource, payload = load_sample(name)
    before = parse(encode_like_sentry(payload), resource)
    fresh = renew(resource, payload)
    after = parse(encode_like_sentry(fresh), resource)
    assert after.subject_id != before.subject_id
    assert after.dedup_key != before.dedup_key
    assert parse(encode_like_sentry(payload), resource).subject_id == before.subject_id


@pytest.mark.parametrize("old, check", [
    (1234, lambda v: isinstance(v, int) and v != 1234),
    ("1234567890", lambda v: isinstance(v, str) and v.isdigit() and v != "1234567890"),
    ("eac5a0ae-60ec-418f-9318-46dc5e7e52ec", lambda v: len(v) == 36 and v.count("-") == 4),
    ("bb78c1407cea4519aa397afc059c793d", lambda v: len(v) == 32 and int(v, 16) >= 0),
    ("run-a", lambda v: v.startswith("run-a-")),
])
def test_new_ids_keep_their_shape(old: object, check) -> None:
    """A fresh id has the old one's type and form: numbers stay numbers, UUIDs stay UUIDs, hex stays hex."""
    assert check(new_id_like(old))


def test_set_path_creates_and_replaces() -> None:
    """set_path replaces a value, indexes lists and creates missing objects on the way."""
    payload = {"data": {"issue": {"level": "error"}, "tags": [["os", "linux"]]}}
    set_path(payload, "data.issue.level", "fatal")
    set_path(payload, "data.tags.0.1", "mac")
    set_path(payload, "data.issue.project.slug", "api")
    assert payload == {"data": {"issue": {"level": "fatal", "project": {"slug": "api"}}, "tags": [["os", "mac"]]}}
    assert get_path(payload, "data.issue.project.slug") == "api"


@pytest.mark.parametrize("path", ["data.issue.level.x", "data.tags.5.0", "data.issue.title.0"])
def test_set_path_refuses_what_is_not_an_object(path: str) -> None:
    """A path through a text value or past a list's end is an error naming the path, not a silent no-op."""
    payload = {"data": {"issue": {"level": "error", "title": "t"}, "tags": [["os", "linux"]]}}
    with pytest.raises(PathError, match=path.replace(".", r"\.")):
        set_path(payload, path, 1)


def test_unknown_sample_names_the_choices() -> None:
    """Asking for a sample that isn't bundled says which ones are."""
    with pytest.raises(KeyError, match="issue.created"):
        load_sample("issue.exploded")
