"""Render cost per notification (median, per channel form) and sends/second to FakeSlack from one process.

    .venv/bin/python bench/bench_render.py [--renders 2000] [--sends 500] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from router.channels.slack.client import SlackChannel
from router.render import Renderer
from router.rules.model import Rule, Target
from router.sentry import build
from tests.fakes.slack import FakeSlack

TARGETS = {"slack": Target("s", "slack", {"channel": "#b"}), "email": Target("e", "email", {"to": ["a@x.io"]}),
           "text": Target("c", "console", {})}


def events() -> list:
    """Every bundled sample as an event."""
    return [build(p.name.split(".")[0], json.loads(p.read_text("utf-8")))
            for p in sorted((ROOT / "router" / "samples").glob("*.json"))]


def bench_render(n: int) -> dict[str, float]:
    """Median microseconds per render, per form, cycling through every sample."""
    renderer, evs, rule = Renderer(None, "https://acme.sentry.io"), events(), Rule("bench", None)
    out = {}
    for form, target in TARGETS.items():
        for ev in evs:  # warm the template cache
            renderer.render(ev, target, rule)
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            renderer.render(evs[i % len(evs)], target, rule)
            times.append(time.perf_counter() - t0)
        out[form] = statistics.median(times) * 1e6
    return out


def bench_sends(n: int, threads: int) -> dict[str, float]:
    """Sends per second to FakeSlack: sequential, then with `threads` threads (one shared channel)."""
    renderer = Renderer(None, "https://acme.sentry.io")
    msg = renderer.render(events()[0], TARGETS["slack"])
    out = {}
    with FakeSlack(token="xoxb-bench") as slack:
        ch = SlackChannel("#bench", "xoxb-bench", slack.url)
        ch.send(msg)
        t0 = time.perf_counter()
        for _ in range(n):
            ch.send(msg)
        out["sequential"] = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: ch.send(msg), range(n)))
        out[f"{threads}_threads"] = n / (time.perf_counter() - t0)
        assert len(slack.calls("chat.postMessage")) == 2 * n + 1
    return out


def main() -> None:
    """Run both benches and print the numbers."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--renders", type=int, default=2000)
    ap.add_argument("--sends", type=int, default=500)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    for form, us in bench_render(args.renders).items():
        print(f"render {form:6s} median {us:8.0f} µs / notification")
    for mode, rate in bench_sends(args.sends, args.threads).items():
        print(f"FakeSlack sends {mode:12s} {rate:8.0f} / s")


if __name__ == "__main__":
    main()
