"""Matching cost per webhook with 10, 100, 1,000 and 10,000 rules (DESIGN 2.4: < 1 ms at 1,000).

Run: .venv/bin/python bench/bench_match.py [--repeat N]

Builds realistic rule files (mixed resources and actions, regexes, globs, levels, combinators,
a few unpinned rules), loads them with the real loader, matches every fixture many times and
prints the median CPU cost of one webhook per rule count, and its ratio to the 10-rule baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.rules.load import load_rules_text
from router.rules.match import match
from router.sentry import build

RESOURCES = {
    "issue": ["created", "resolved", "assigned", "ignored", "unresolved"],
    "error": ["created"], "comment": ["created", "updated", "deleted"], "event_alert": ["triggered"],
    "metric_alert": ["critical", "warning", "resolved"], "seer": ["root_cause_completed", "pr_created"],
    "installation": ["created", "deleted"], "activity_alert": ["triggered"],
}
LEVELS = ["debug", "info", "warning", "error", "fatal"]


def rule(i: int, rng: random.Random) -> str:
    """One realistic rule: pinned to a resource (mostly an action too), with 1-3 more conditions."""
    resource = rng.choice(list(RESOURCES))
    conds = [f"resource: {resource}"]
    roll = rng.random()
    if roll < 0.6:
        conds.append(f"action: {rng.choice(RESOURCES[resource])}")
    elif roll < 0.8:
        conds.append(f"action: [{', '.join(rng.sample(RESOURCES[resource], k=min(2, len(RESOURCES[resource]))))}]")
    extra = [
        f"project: {{regex: \"(team{i % 50}|python|front-end)-?.*\"}}",
        f"level: {{gte: {rng.choice(LEVELS)}}}",
        f"title: {{glob: \"*{rng.choice(['Error', 'TypeError', 'timeout', 'blooopy'])}*\"}}",
        f"environment: {{not: {{in: [staging, dev{i % 7}]}}}}",
        "actor.type: {not: application}",
        f"any: [{{tags.browser.name: Chrome}}, {{data.issue.count: {{gte: {i % 100}}}}}]",
    ]
    conds.extend(rng.sample(extra, k=rng.randint(1, 3)))
    return f"  - name: rule-{i}\n    match: {{{', '.join(conds)}}}\n    notify: [t{i % 5}]\n"


def ruleset_text(n: int, seed: int = 7) -> str:
    """A rules file with n rules; 2% of them are unpinned (checked for every webhook)."""
    rng = random.Random(seed)
    targets = "".join(f"  t{k}: {{type: console}}\n" for k in range(5))
    rules = [rule(i, rng) if rng.random() > 0.02 else
             f"  - name: rule-{i}\n    match: {{level: {{gte: error}}, project: {{regex: \"p.*\"}}}}\n"
             "    notify: [t0]\n"
             for i in range(n)]
    return f"version: 1\ntargets:\n{targets}rules:\n{''.join(rules)}"


def events() -> list:
    """Every fixture as an event."""
    return [build(p.name.split(".")[0], json.loads(p.read_text("utf-8")))
            for p in sorted((ROOT / "tests" / "fixtures").glob("*.json"))]


def per_webhook_seconds(n: int, evs: list, repeat: int) -> tuple[float, float]:
    """(median seconds per webhook over `repeat` rounds of all fixtures, load seconds)."""
    t0 = time.perf_counter()
    rs = load_rules_text(ruleset_text(n), f"bench-{n}.yaml", {})
    load = time.perf_counter() - t0
    for ev in evs:      # warm the index cache, as a long-running worker would be
        match(rs, ev)
    rounds = []
    for _ in range(repeat):
        start = time.process_time()   # CPU time: wall time on a shared machine measures the neighbours
        for ev in evs:
            match(rs, ev)
        rounds.append((time.process_time() - start) / len(evs))
    return statistics.median(rounds), load


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="rounds over all fixtures per rule count")
    args = parser.parse_args()
    evs = events()
    print(f"{len(evs)} fixtures, {args.repeat} rounds each; median cost of matching one webhook")
    print(f"{'rules':>7} {'per webhook':>12} {'vs 10 rules':>12} {'load+compile':>13}")
    baseline = None
    for n in (10, 100, 1_000, 10_000):
        repeat = max(5, args.repeat // (10 if n >= 10_000 else 1))
        cost, load = per_webhook_seconds(n, evs, repeat)
        baseline = baseline or cost
        print(f"{n:>7} {cost * 1e6:>9.1f} µs {cost / baseline:>11.1f}x {load:>11.2f} s")


if __name__ == "__main__":
    main()
