"""Console: print the rendered text to stdout (the zero-config default)."""

from __future__ import annotations

import sys
import threading

from router.channels.base import Receipt
from router.channels.neutral import terminal_line
from router.channels.one_message import OneMessage
from router.render import Message

_LOCK = threading.Lock()  # one notification's lines stay together


class ConsoleChannel(OneMessage):
    """Prints each message's title and text, flushed, to stdout."""

    type = "console"

    def __init__(self, name: str = "console") -> None:
        self.name = name

    def send(self, message: Message) -> Receipt:
        """Print `message`: its title, then each line of its text, every line starting with `[name]` and its
        control characters escaped (payload text cannot forge a line or drive the terminal)."""
        lines = [f"[{self.name}] {terminal_line(message.title)}"]
        lines += [f"[{self.name}] | {terminal_line(line)}" for line in message.text.split("\n")] if message.text else []
        out = "\n".join(lines) + "\n"
        with _LOCK:
            sys.stdout.write(out)
            sys.stdout.flush()
        return {"printed": len(out)}
