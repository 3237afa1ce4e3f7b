"""Apprise and console channels: json:// posts to a local HTTP server, failures, the factory."""

from __future__ import annotations

import pytest

from router.channels import DeliveryError, build_channel
from router.channels.apprise import AppriseChannel
from router.channels.console import ConsoleChannel
from router.render import Renderer
from router.rules.model import Target
from router.settings import Settings
from tests.fakes.fixtures import http_sink  # noqa: F401  (fixture)
from tests.fakes.http_sink import HttpSink
from tests.support.render import RESOURCES, first_sample, sample

RENDERER = Renderer(None, sentry_url="https://acme.sentry.io")


@pytest.mark.parametrize("resource", RESOURCES)
def test_json_post_for_every_resource(http_sink: HttpSink, resource: str) -> None:
    """Apprise json:// posts the rendered title and text to the server."""
    target = Target("chat", "apprise", {"urls": (http_sink.apprise_url("hook"),)})
    msg = RENDERER.render(sample(first_sample(resource)), target)
    receipt = build_channel(target, Settings()).send(msg)
    assert receipt["sent"] == 1
    (req,) = http_sink.requests
    assert req.method == "POST" and req.path == "/hook"
    assert req.json["title"] == msg.title and req.json["message"] == msg.text


def test_several_urls_all_notified(http_sink: HttpSink) -> None:
    """A list of Apprise URLs notifies each of them."""
    ch = AppriseChannel([http_sink.apprise_url("a"), http_sink.apprise_url("b")])
    assert ch.send(RENDERER.render(sample("issue.created"), Target("x", "apprise", {})))["sent"] == 2
    assert sorted(r.path for r in http_sink.requests) == ["/a", "/b"]


def test_service_failure_is_retryable_with_apprise_reason(http_sink: HttpSink) -> None:
    """A failing service gives a retryable error naming the service and Apprise's reason."""
    http_sink.fail_next(1, status=500)
    url = http_sink.apprise_url("hook").replace("json://", "json://user:pa55word-secret@")
    with pytest.raises(DeliveryError) as err:
        AppriseChannel([url]).send(RENDERER.render(sample("issue.created"), Target("x", "apprise", {})))
    assert err.value.retryable and "JSON" in err.value.reason and "500" in err.value.reason
    assert "pa55word-secret" not in err.value.reason


def test_unusable_url_is_permanent() -> None:
    """A URL Apprise cannot load is a permanent error."""
    with pytest.raises(DeliveryError) as err:
        AppriseChannel(["nosuchscheme://x"]).send(RENDERER.render(sample("issue.created"), Target("x", "apprise", {})))
    assert not err.value.retryable and "not a usable Apprise URL" in err.value.reason


def test_console_prints_title_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The console channel prints the title and the text to stdout."""
    target = Target("log", "console", {})
    ch = build_channel(target, Settings())
    assert isinstance(ch, ConsoleChannel)
    ch.send(RENDERER.render(sample("issue.resolved"), target))
    out = capsys.readouterr().out
    assert out.startswith("[log] ✅ Issue resolved\n") and "Error #1: This is a test error!" in out


def test_unknown_target_type_is_refused() -> None:
    """build_channel refuses a type it does not know."""
    with pytest.raises(ValueError, match="unknown type"):
        build_channel(Target("x", "pager", {}), Settings())
