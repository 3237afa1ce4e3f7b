"""Output neutral for every channel: Apprise bodies ping nobody, console lines carry no control characters, Slack
formatting characters in payload text stay literal."""

from __future__ import annotations

import json
import re

import apprise
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.channels.apprise import AppriseChannel
from router.channels.console import ConsoleChannel
from router.channels.neutral import ZWSP, for_service, mentions, terminal_line
from router.render import Renderer
from router.rules.model import Target
from router.sentry import build
from tests.fakes.fixtures import http_sink  # noqa: F401  (fixture)
from tests.fakes.http_sink import HttpSink
from tests.support.render import SAMPLES

DISCORD = "discord://1234567890/abcdefghijklmnopqrstuvwxyz0123?format=markdown"
# what would ping: Apprise's own Discord detection, plus the broadcast words and Slack-style specials
PINGS = re.compile(r"(?<![\w.+-])@(everyone|here|channel|all|room|\*\*all\*\*)|<@[&!]?\d|<!\w")
MENTION_TOKENS = ["@everyone", "@here", "<@&123456>", "<@987654>", "<@!42>", "<!channel>", "<!here>", "@channel",
                  "@all", "@room", "@**all**"]


def discord() -> object:
    """Apprise's Discord plugin for a URL (built, never sent: its ping detection is what we test against)."""
    return apprise.Apprise.instantiate(DISCORD)


def issue(title: str, culprit: str = "app.main") -> object:
    """issue.created with this title and culprit."""
    payload = json.loads((SAMPLES / "issue.created.json").read_text("utf-8"))
    payload["data"]["issue"].update(title=title, culprit=culprit)
    return build("issue", payload)


@pytest.mark.parametrize("token", MENTION_TOKENS)
def test_mentions_are_broken_and_apprise_detects_none(token: str) -> None:
    """Each mention form is broken by a zero-width space; Apprise's Discord plugin then allow-lists nothing."""
    text = f"boom {token} boom"
    assert PINGS.search(text)   # the raw text would ping
    for url in (DISCORD, "json://127.0.0.1/x", "slack://T1/B1/C1", "mmost://host/token"):
        out = for_service(text, url)
        assert not PINGS.search(out) and out.replace(ZWSP, "").replace("\\", "") == text.replace("\\", "")
    assert discord().ping_payload(for_service(text, DISCORD)) == {}


def test_addresses_stay_readable_outside_discord() -> None:
    """An email address is no mention: left as written, except for Discord whose plugin would allow-list it."""
    assert mentions("mail jane@example.com") == "mail jane@example.com"
    assert discord().ping_payload("mail jane@example.com") != {}
    assert discord().ping_payload(for_service("mail jane@example.com", DISCORD)) == {}


def test_discord_markdown_is_escaped() -> None:
    """Bold, spoilers, masked links and headings in payload text show as written in Discord."""
    out = for_service("# big\n**b** ||spoiler|| [click](https://evil.example) `x` ~~s~~", DISCORD)
    assert out == ("\\# big\n\\*\\*b\\*\\* \\|\\|spoiler\\|\\| \\[click\\]\\(https://evil.example\\) \\`x\\` "
                   "\\~\\~s\\~\\~")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(MENTION_TOKENS)), max_size=8),
       st.sampled_from([DISCORD, "json://127.0.0.1/x", "tgram://1:2/3"]))
@pytest.mark.slow
def test_random_text_never_pings(parts: list[str], url: str) -> None:
    """Whatever the payload text, the neutralised body has no mention Apprise or the service would act on."""
    out = for_service("".join(parts), url)
    assert not PINGS.search(out)
    if url == DISCORD:
        assert discord().ping_payload(out) == {}


def test_apprise_body_sent_is_neutral(http_sink: HttpSink) -> None:
    """What an Apprise service receives from a hostile title mentions nobody."""
    msg = Renderer(None).render(issue("@everyone <@&123> down"), Target("chat", "apprise", {}))
    AppriseChannel([http_sink.apprise_url("hook")]).send(msg)
    (req,) = http_sink.requests
    assert "@everyone" not in req.json["message"] and "<@&123>" not in req.json["message"]
    assert f"@{ZWSP}everyone" in req.json["message"]


HOSTILE_LINES = ["ok\n2026-11-29 10:00:00,000 ERROR router.web [1] forged", "\x1b[31mred\x1b[0m",
                 "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "over\rwrite", "nul\x00byte",
                 "line\u2028sep", "\u202eevil", "c1\x9bcsi", "bell\x07"]


@pytest.mark.parametrize("title", HOSTILE_LINES)
def test_console_lines_carry_no_control_characters(title: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Payload text cannot forge a console line, move the cursor, link or colour: every line is [name]-prefixed
    and its control characters are shown escaped."""
    msg = Renderer(None).render(issue(title, culprit=title), Target("log", "console", {}))
    ConsoleChannel("log").send(msg)
    out = capsys.readouterr().out
    for line in out.splitlines():
        assert line.startswith("[log] ") and line.isprintable()
    assert "\r" not in out and "\x00" not in out and "\x1b" not in out


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_terminal_line_is_one_printable_line(text: str) -> None:
    """Any text becomes one line of printable characters (tab allowed)."""
    assert all(c.isprintable() or c == "\t" for c in terminal_line(text))


def test_slack_formatting_in_payload_text_stays_literal() -> None:
    """`*_~` and backticks from the payload show as written (Slack's date fallback), inside the template's bold;
    the template's own `*…*` still formats."""
    msg = Renderer(None).render(issue("Fail in *main* _x_ ~y~ `z` snake_case"), Target("s", "slack", {"channel": "#c"}))
    section = msg.blocks[1]["text"]["text"]
    plain = re.sub(r"<!date\^00000000\^\{_\}\|(.)>", r"\1", section)
    assert section.startswith("*Fail in ") and section.split("\n")[0].endswith("snake_case*")
    assert plain.split("\n")[0] == "*Fail in *main* _x_ ~y~ `z` snake_case*"
    inner = re.sub(r"<!date\^00000000\^\{_\}\|.>", "", section.split("\n")[0][1:-1])
    assert not re.search(r"[*~`]", inner) and inner.count("_") == 1   # snake_case's, which formats nothing


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab *_~`<>&"), max_size=40))
@pytest.mark.slow
def test_slack_random_formatting_is_always_literal(title: str) -> None:
    """For any title built from formatting characters, every `*~` and backtick reaching Slack from the payload is
    inside a date fallback, so the card's bold title is never broken."""
    msg = Renderer(None).render(issue(title or "t"), Target("s", "slack", {"channel": "#c"}))
    first = msg.blocks[1]["text"]["text"].split("\n")[0]
    inner = re.sub(r"<!date\^00000000\^\{_\}\|.>", "", first[1:-1])
    assert first.startswith("*") and first.endswith("*") and not re.search(r"[*~`]", inner)
