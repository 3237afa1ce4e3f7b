"""The render budget: runaway templates (time or size) fail like any template error, quickly, and `check` says so."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from router.render import Renderer, check_templates
from router.render.budget import RenderBudgetExceeded, limits
from router.render.env import Env
from router.rules.model import Target
from tests.support.render import sample

CONSOLE = Target("log", "console", {})
ROOT = Path(__file__).resolve().parents[3]
HANG_GUARD = 120.0   # seconds: only so a regression fails instead of hanging the suite

# (id, template body): each runs on or grows without bound when nothing stops it
RUNAWAY = [
    ("nested-loops", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
    ("nested-loops-text", "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"),
    ("loop-over-payload", "{% for a in range(100000) %}{% for c in title * 1000 %}{{ c }}{% endfor %}{% endfor %}"),
    ("exponential-macro", "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"),
    ("string-times", "{{ 'x' * 10**9 }}"),
    ("list-times", "{{ ([title] * 10**9)|length }}"),
    ("big-power", "{{ 7 ** 100000000 }}"),
    ("center-filter", "{{ title|center(10**9) }}"),
    ("center-method", "{{ title.center(10**9) }}"),
    ("replace-empty", "{{ (title * 100)|replace('', title * 100) }}"),
    ("join-sep", "{{ range(100000)|join(title * 1000) }}"),
    ("join-lazy", "{{ (title * 1000).join(range(50000)|map('string')) }}"),
    ("percent-width", "{{ '%0999999999d' % 1 }}"),
    ("format-width", "{{ '{:>999999999}'.format(1) }}"),
    ("indent", "{{ ('a\\n' * 100000)|indent(100000) }}"),
    ("concat-doubling",
     "{% set ns = namespace(s=title) %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length"
     " }}"),
    ("plus-doubling",
     "{% set ns = namespace(s=title) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length"
     " }}"),
    ("many-outputs", "{% for i in range(100000) %}{{ title }}{{ title }}{{ title }}{% endfor %}"),
]


def errors_counted(template: str) -> float:
    return REGISTRY.get_sample_value("router_template_errors_total", {"template": template}) or 0.0


def bounded(fn: Any) -> Any:
    """Run `fn` in a thread; fail (instead of hanging the suite) if it has not returned after HANG_GUARD."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed to the test
            out["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the render did not stop"
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.mark.parametrize("body", [b for _, b in RUNAWAY], ids=[i for i, _ in RUNAWAY])
@pytest.mark.slow
def test_runaway_template_falls_back_counted_and_logged(tmp_path: Path, body: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A template that runs too long or grows too big stops, is counted and logged, and `default` is sent."""
    (tmp_path / "issue.text.j2").write_text("{% block title %}" + body + "{% endblock %}")
    renderer = Renderer(str(tmp_path), timeout=3.0, max_chars=200_000)
    before = errors_counted("issue.text.j2")
    with caplog.at_level(logging.WARNING, logger="router.render.renderer"):
        msg = bounded(lambda: renderer.render(sample("issue.created"), CONSOLE))
    assert msg.template == "default.text.j2" and msg.title == "🔴 New issue in python"
    assert errors_counted("issue.text.j2") == before + 1
    assert any("RenderBudgetExceeded" in r.getMessage() and "issue.text.j2:1" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize(("body", "expected"), [
    ("{% for i in range(3) %}{{ i }},{% endfor %}", "0,1,2,"),
    ("{{ 'ab' ~ 'cd' }} {{ 'x'|center(5) }} {{ 2 ** 10 }} {{ 'a' * 3 }} {{ [1] * 2 }}", "abcd   x   1024 aaa [1, 1]"),
    ("{{ '%05d' % 42 }} {{ '{:>4}'.format(7) }} {{ 'a,b'|replace(',', ';') }} {{ [1, 2]|join('-') }}",
     "00042    7 a;b 1-2"),
    ("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}{{ m(2) }}", "<1><2>"),
])
def test_templates_within_budget_render_as_before(body: str, expected: str) -> None:
    """The budget changes nothing for a template that stays inside it."""
    with limits(5.0, 10_000):
        assert Env(None).from_string(body).render() == expected


def test_output_over_max_chars_is_refused_at_once() -> None:
    """A single value past ROUTER_RENDER_MAX_CHARS is refused before Python builds it (no 100 MB render)."""
    with limits(60.0, 1000), pytest.raises(RenderBudgetExceeded, match="ROUTER_RENDER_MAX_CHARS"):
        Env(None).from_string("{{ 'y' * 100_000_000 }}").render()


@st.composite
def loop_templates(draw: Any) -> tuple[str, int]:
    """Nested `for` loops of random depth and sizes around a random body; (template, loop iterations in all)."""
    depth = draw(st.integers(1, 4))
    sizes = [draw(st.sampled_from([0, 1, 3, 10, 1000, 100000])) for _ in range(depth)]
    body = draw(st.sampled_from(["", "x", "{{ title }}", "{{ i0 }}", "{% if i0 %}y{% endif %}"]))
    src = body
    for level, n in reversed(list(enumerate(sizes))):
        src = f"{{% for i{level} in range({n}) %}}{src}{{% endfor %}}"
    runs, product = 0, 1
    for n in sizes:
        product *= n
        runs += product
    return src, runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loop_templates(), st.text(max_size=50))
@pytest.mark.slow
def test_random_loops_finish_or_stop_within_the_budget(case: tuple[str, int], title: str) -> None:
    """Random nested loops either render completely (small) or stop with RenderBudgetExceeded (runaway)."""
    src, runs = case
    template = Env(None).from_string(src)

    def render() -> str | None:
        try:
            with limits(0.2, 50_000):
                return template.render(title=title)
        except RenderBudgetExceeded:
            return None
    out = bounded(render)
    if runs <= 1000:
        assert out is not None
    if runs > 10 ** 7:
        assert out is None


@pytest.mark.slow
def test_check_reports_a_runaway_template(tmp_path: Path) -> None:
    """`check_templates` reports a runaway template as FILE:LINE: sample: RenderBudgetExceeded, once per file."""
    (tmp_path / "issue.text.j2").write_text(
        "{% block title %}\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        "{% endblock %}")
    errors = bounded(lambda: check_templates(str(tmp_path), renderer=Renderer(str(tmp_path), timeout=2.0)))
    ours = [e for e in errors if "issue.text.j2" in e]
    assert len(ours) == 1 and "issue.text.j2:2: sample" in ours[0] and "RenderBudgetExceeded" in ours[0]


@pytest.mark.slow
def test_cli_check_stops_on_a_runaway_template(tmp_path: Path) -> None:
    """`sentry-router check` (the release step) exits 1 naming the runaway template instead of hanging."""
    (tmp_path / "issue.text.j2").write_text(
        "{% block title %}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
        "{% endblock %}")
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ntargets:\n  log: {type: console}\nrules:\n  - name: all\n    match: {}\n"
                     "    notify: [log]\n")
    env = {**os.environ, "ROUTER_RENDER_TIMEOUT": "2", "ROUTER_TEMPLATES": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "router", "check", str(rules)], capture_output=True, text=True,
                          env=env, timeout=HANG_GUARD, cwd=tmp_path)
    assert proc.returncode == 1 and "problem found" in proc.stderr   # one: the template
    # which budget runs out first depends on the machine's speed: time (slow host) or size (fast host)
    assert "issue.text.j2:1: sample" in proc.stderr and "RenderBudgetExceeded" in proc.stderr
    assert "ROUTER_RENDER_TIMEOUT" in proc.stderr or "ROUTER_RENDER_MAX_CHARS" in proc.stderr
