"""FakeSlack in its own process (so its GIL is not the bench's): one log line per call, read back by the bench.

    slack = SlackProcess(token, log_path)    # starts `python bench/slack_process.py TOKEN LOG`
    slack.url; slack.calls() -> [(load number or -1, method, time.time())]; slack.stop()
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TITLE = re.compile(r"load-(\d{5,})-x")


class SlackProcess:
    """A child process running FakeSlack; calls are read from its log file."""

    def __init__(self, token: str, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, __file__, token, str(log)], stdout=subprocess.PIPE, cwd=ROOT)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/api/"
        self._offset, self._calls = 0, []  # type: int, list[tuple[int, str, float]]

    def calls(self) -> list[tuple[int, str, float]]:
        """Every call so far: (load number, method, arrival time)."""
        with open(self.log, "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            n, method, at = line.split(" ")
            self._calls.append((int(n), method, float(at)))
        return self._calls

    def stop(self) -> None:
        """Stop the child."""
        self.proc.terminate()
        self.proc.wait(10)


def _serve(token: str, log: str) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.fakes.slack import Call, FakeSlack

    out, lock = open(log, "a", buffering=1), threading.Lock()

    class LoggingSlack(FakeSlack):
        def _answer(self, call: Call) -> Any:
            answer = super()._answer(call)
            m = TITLE.search(str(call.params.get("text")))
            with lock:
                out.write(f"{int(m.group(1)) if m else -1} {call.method} {time.time():.6f}\n")
            return answer

        def _post(self, p: dict[str, Any]) -> dict[str, Any]:  # keep no messages: 10,000s would only cost memory
            return {"ok": True, "channel": self.channel_id(str(p.get("channel"))), "ts": self._next_ts()}

    slack = LoggingSlack(token=token)
    slack._server.handle_error = lambda *_: None  # a killed worker's socket
    slack.start()
    print(slack.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
