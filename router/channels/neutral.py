"""Payload text made inert where it lands: no pings or service markup in Apprise bodies, no terminal control in
console lines. (Slack's own escaping is in router.render.env: it happens per value, at render time.)"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ZWSP = "\u200b"   # a zero-width space: invisible, but `@\u200beveryone` is no mention anywhere
# `@` that starts a mention: not preceded by a word character (so `jane@example.com` stays as it is) and
# followed by a name, `&role`, `!nick`, `#channel` or Zulip's `**all**`: @everyone @here @channel @all @room
# <@123> <@&123> <@!123> @**all**
_MENTION = re.compile(r"(?<![\w.+-])@(?=[\w&!#*])")
_SPECIAL = re.compile(r"<(?=[!#])")         # <!channel> <!here> <!subteam^…> <#C123>: Slack-style specials
_DISCORD_MARKUP = re.compile(r"([\\*_~|`\[\]()])|^([>#-])", re.M)   # escaped with a backslash, which Discord hides

MARKDOWN_SCHEMES = frozenset({"discord"})   # the services whose text bodies are parsed as markdown


def mentions(text: str) -> str:
    """`text` with every mention (`@everyone`, `<@&role>`, `<@user>`, `<!channel>`) broken by a zero-width space."""
    if "@" in text:
        text = _MENTION.sub("@" + ZWSP, text)
    return _SPECIAL.sub("<" + ZWSP, text) if "<" in text else text


def for_service(text: str, url: str) -> str:
    """`text` made inert for the Apprise service of `url`: mentions broken everywhere; where the service renders
    markdown (Discord) its markup escaped (`**`, `||spoiler||`, `[masked](links)`, `# headings`) and every `@`
    broken, since Apprise's Discord plugin turns any `@word`, even inside an address, into an allowed mention."""
    if scheme(url) not in MARKDOWN_SCHEMES:
        return mentions(text)
    text = _DISCORD_MARKUP.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    return _SPECIAL.sub("<" + ZWSP, text.replace("@", "@" + ZWSP))


def scheme(url: str) -> str:
    """The lower-case scheme of an Apprise URL (`discord`, `slack`, `json`…), or '' when it has none."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _shown(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_line(text: str) -> str:
    """One line safe for a terminal or log collector: every character Python does not call printable but tab
    (newline, CR, ESC, NUL, C1, bidi overrides, line separators, format and unassigned characters) shown as
    `\\xNN` / `\\uNNNN`, so nothing can start a forged line or an escape sequence."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else _shown(c) for c in text)
