"""`sentry-router send-sample` (router/cli/send_sample.py): samples or files, a new event per send unless --same,
PORT."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from router.sentry import parse
from router.sentry.verify import sign
from tests.conftest import SECRET
from tests.fakes.http_sink import HttpSink
from tests.system.test_cli_web import CLI, _env, web_server  # noqa: F401  (a fixture)


def _send(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "send-sample", *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture
def sink(tmp_path: Path):
    """An HTTP sink standing in for the router, and an environment whose PORT points at it."""
    with HttpSink(status=202) as s:
        yield s, _env(tmp_path, SENTRY_CLIENT_SECRET=SECRET, PORT=str(s.port))


def test_each_send_is_a_new_event_and_reads_port(sink) -> None:
    """Without --url it posts to 127.0.0.1:$PORT; two sends of one sample are about two subjects, both signed."""
    server, env = sink
    for _ in range(2):
        assert _send(env, "issue.created").returncode == 0
    first, second = server.requests
    assert first.path == "/sentry/webhook"
    subjects = {parse(r.body, "issue").subject_id for r in (first, second)}
    assert len(subjects) == 2
    assert all(r.headers["sentry-hook-signature"] == sign(r.body, SECRET) for r in (first, second))


def test_same_sends_identical_bytes(sink) -> None:
    """--same sends the sample as it is, so both sends carry the same bytes (a duplicate, to test dedup)."""
    server, env = sink
    for _ in range(2):
        assert _send(env, "metric_alert.critical", "--same").returncode == 0
    assert server.requests[0].body == server.requests[1].body


def test_file_is_sent_as_sentry_would(sink, tmp_path: Path) -> None:
    """--file sends the user's payload, re-encoded compactly as Sentry does, resource from the file name."""
    server, env = sink
    path = tmp_path / "error.created.json"
    path.write_text(json.dumps({"action": "created", "data": {"error": {"event_id": "ab" * 16, "title": "Ünï"}}},
                               indent=2))
    assert _send(env, "--file", str(path), "--same").returncode == 0
    req = server.requests[0]
    assert req.headers["sentry-hook-resource"] == "error"
    assert req.body == (b'{"action":"created","data":{"error":{"event_id":"' + b"ab" * 16
                        + b'","title":"\\u00dcn\\u00ef"}}}')


@pytest.mark.parametrize("content, name, expected", [
    ("{not json", "issue.created.json", "issue.created.json: not JSON"),
    ("[1, 2]", "issue.created.json", "a webhook body is a JSON object, this is a list"),
    ("{}", "payload.json", "cannot tell the resource from the file name 'payload.json'"),
])
def test_bad_files_are_refused_before_sending(sink, tmp_path: Path, content: str, name: str,
                                               expected: str) -> None:
    """A file that is not a JSON object, or whose resource is unknown, is an error naming it; nothing is sent."""
    server, env = sink
    path = tmp_path / name
    path.write_text(content)
    out = _send(env, "--file", str(path))
    assert out.returncode != 0 and expected in out.stderr
    assert server.requests == []


@pytest.mark.slow
def test_the_router_sees_a_new_event_unless_same(web_server) -> None:
    """Against a real router, a repeated send notifies again; with --same the repeat is answered as a duplicate."""
    url, env = web_server
    answers = [json.loads(_send(env, "issue.created", "--url", url, *flags).stdout.split(" ", 1)[1])
               for flags in ([], [], ["--same"], ["--same"])]
    assert [a["duplicate"] for a in answers] == [False, False, False, True]
