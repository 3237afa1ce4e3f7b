"""Console: print the rendered text to stdout (the zero-config default)."""

from __future__ import annotations

import sys
import threading

from router.channels.base import Message, Receipt

_LOCK = threading.Lock()  # one notification's lines stay together


class ConsoleChannel:
    """Prints each message's title and text, flushed, to stdout."""

    type = "console"

    def __init__(self, name: str = "console") -> None:
        self.name = name

    def send(self, message: Message) -> Receipt:
        """Print `message` (title line, then its text)."""
        out = f"[{self.name}] {message.title}\n{message.text}\n"
        with _LOCK:
            sys.stdout.write(out)
            sys.stdout.flush()
        return {"printed": len(out)}
