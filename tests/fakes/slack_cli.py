"""FakeSlack on a fixed port, printing every message: a Slack to try the router against without a workspace.

    .venv/bin/python -m tests.fakes.slack_cli [--port 8001] [--token xoxb-local]

Point the router at it with `SLACK_BOT_TOKEN=xoxb-local SLACK_API_URL=http://127.0.0.1:8001/api/`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import ThreadingHTTPServer
from typing import Any, TextIO

from tests.fakes.slack import Call, FakeSlack


class PrintingSlack(FakeSlack):
    """A FakeSlack that listens on a chosen port and prints one block per call it answers."""

    def __init__(self, port: int, token: str, out: TextIO) -> None:
        super().__init__(token=token)
        self._server.server_close()  # FakeSlack binds a free port; this one listens where it is told
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.out = out

    def _answer(self, call: Call) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = super()._answer(call)
        self.out.write(describe(call, json.loads(body) if "json" in headers.get("Content-Type", "") else {}))
        self.out.flush()
        return status, headers, body


def describe(call: Call, answer: dict[str, Any]) -> str:
    """One call as a few readable lines: method, channel, text, Slack's answer and the blocks as JSON."""
    where = call.params.get("channel") or call.path
    thread = f" (thread {call.params['thread_ts']})" if call.params.get("thread_ts") else ""
    verdict = "ok" if answer.get("ok", True) else f"error {answer.get('error')}"
    lines = [f"{call.method} {where}{thread}: {call.params.get('text', '')}  → {verdict}"]
    if call.params.get("blocks"):
        lines.append("  blocks: " + json.dumps(call.params["blocks"], ensure_ascii=False))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--token", default="xoxb-local", help="the bot token the router must send")
    args = parser.parse_args(argv)
    slack = PrintingSlack(args.port, args.token, sys.stdout).start()
    print(f"fake Slack on {slack.url}: set SLACK_BOT_TOKEN={args.token} SLACK_API_URL={slack.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        slack.stop()


if __name__ == "__main__":
    main()
