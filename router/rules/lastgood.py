"""The newest valid rules text, shared by the processes of one machine through a file beside the store.

Each process checks the rules file on its own clock. When a valid edit is followed within one interval by a
broken one, a process that only ever saw the broken file would keep the version before the valid edit while
its siblings route with the valid one. A process that loads a valid file leaves its text here (newest file
modification time wins); a process refused a broken file takes the text from here when it is newer than its own.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile

log = logging.getLogger(__name__)
NAME = "rules.last-good.json"


class LastGood:
    """One machine's newest valid rules text, in `folder`."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, NAME)

    def read(self) -> tuple[int, str] | None:
        """(the rules file's mtime_ns when it was loaded, its text), or None when there is none or it is unreadable."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                saved = json.load(fh)
            return int(saved["mtime_ns"]), str(saved["text"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, mtime_ns: int, text: str) -> None:
        """Keep `text` unless a newer one is kept already (never raises: sharing is a help, not a duty)."""
        try:
            found = self.read()
            if found is not None and found[0] >= mtime_ns:
                return
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path) or ".", prefix=".rules-last-good-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"mtime_ns": mtime_ns, "text": text}, fh)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.debug("could not share the valid rules in %s: %s", self.path, exc)
