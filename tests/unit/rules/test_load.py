"""Loading rules.yaml: the bad-rules corpus, every error at once, ${VAR}, durations, targets, YAML traps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.rules.load import RulesError, load_default_rules, load_rules, load_rules_text, parse_duration
from tests.conftest import EXAMPLE_RULES

CORPUS = sorted((Path(__file__).parents[2] / "rules_corpus").glob("*.yaml"))
REPO = Path(__file__).parents[3]
SOURCE = "rules/rules.yaml"


def errors_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    """The error lines loading `text` gives (empty when it loads)."""
    try:
        load_rules_text(text, SOURCE, environ or {})
    except RulesError as exc:
        return exc.errors
    return []


def rules_yaml(rule: str, targets: str = "  log:\n    type: console\n") -> str:
    """A rules file with the given targets block body and one rules entry."""
    return f"version: 1\ntargets:\n{targets}rules:\n{rule}"


def test_corpus_is_large_enough() -> None:
    """The corpus holds at least 15 distinct hand-made mistakes."""
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_file_gives_its_exact_errors(path: Path) -> None:
    """Each corpus file yields exactly the `# expect:` lines it lists, in file order."""
    text = path.read_text("utf-8")
    expected = [line[len("# expect: "):] for line in text.splitlines() if line.startswith("# expect: ")]
    assert expected, f"{path.name} lists no # expect: line"
    assert errors_of(text) == expected


def test_design_example_error_line() -> None:
    """The error for an unknown operator has exactly DESIGN 1.4's form."""
    text = rules_yaml("  - name: new-backend-errors\n    match:\n      level: {gtee: error}\n    notify: [log]\n")
    assert errors_of(text) == [
        'rules/rules.yaml:8: rule "new-backend-errors": match.level: unknown operator "gtee" '
        "(expected one of eq, in, not, regex, glob, contains, exists, gt, gte, lt, lte)"]


def test_every_problem_is_reported_at_once() -> None:
    """All the corpus mistakes together in one file are each reported, none hiding another."""
    text = rules_yaml(
        "  - name: a\n    match: {level: {gtee: error}}\n    notify: [nope]\n"
        "  - name: a\n    match: {project: {regex: '('}}\n    notify: [log]\n    throttle: soon\n",
        "  log:\n    type: console\n  mail:\n    type: email\n    to: nobody\n")
    assert [e.split(": ", 2)[1] + " @" + e.split(":")[1] for e in errors_of(text)] == [
        'target "mail" @7', 'rule "a" @10', 'rule "a" @11', 'rule "a" @12', 'rule "a" @13', 'rule "a" @15']


def test_shipped_example_and_default_rules_load_without_environment() -> None:
    """rules/rules.yaml and the packaged default both load with an empty environment."""
    example = load_rules(str(EXAMPLE_RULES), {})
    assert example.targets["log"].type == "console" and len(example.rules) >= 5
    default = load_default_rules()
    assert [r.name for r in default.rules] == ["everything-to-console"]


def test_design_example_loads_with_its_variables() -> None:
    """The full DESIGN 1.4 example loads once its ${VAR}s are set, options normalised."""
    text = (REPO / "tests" / "rules_data" / "design_example.yaml").read_text("utf-8")
    env = {"SLACK_RELEASES_WEBHOOK": "https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXX",
           "DISCORD_ID": "1234567", "DISCORD_TOKEN": "abcdefghijk"}
    rs = load_rules_text(text, SOURCE, env)
    assert rs.settings.dedup_window == 1200 and rs.settings.default_throttle == 0
    assert dict(rs.targets["oncall"].options) == {"channel": "#oncall", "thread": "issue", "broadcast": ("resolved",)}
    assert rs.targets["releases"].options["thread"] == "none"
    assert rs.targets["backend-mail"].options["to"] == ("backend@example.com",)
    assert rs.targets["discord"].options["urls"] == ("discord://1234567/abcdefghijk",)
    first = rs.rules[0]
    assert (first.notify, first.template, first.throttle, first.stop) == \
        (("oncall", "backend-mail"), "issue", 600, False)
    assert rs.rules[1].stop and rs.rules[1].notify == ()


@pytest.mark.parametrize(("env", "expected"), [
    ({"CH": "#ops"}, "#ops"),
    ({}, "#fallback"),
    ({"CH": ""}, "#fallback"),   # shell semantics: empty counts as unset
])
def test_variable_defaults(env: dict[str, str], expected: str) -> None:
    """${VAR:-default} takes the environment's value, else (unset or empty) the default."""
    text = rules_yaml("  - name: r\n    match: {}\n    notify: [s]\n",
                      "  s:\n    type: slack\n    channel: ${CH:-#fallback}\n")
    assert load_rules_text(text, SOURCE, env).targets["s"].options["channel"] == expected


@pytest.mark.parametrize(("raw", "seconds"), [
    ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("0", 0), ("0s", 0), (0, 0),
    ("10", None), ("10 m", None), ("m", None), ("", None), (5, None), ("-1s", None), (True, None),
])
def test_durations(raw: object, seconds: float | None) -> None:
    """Durations are a number and a unit (s m h d, combinable), or 0; anything else is refused."""
    assert parse_duration(raw) == seconds


def test_secrets_in_urls_are_masked_in_errors() -> None:
    """An error that quotes a URL never shows its password or token."""
    text = rules_yaml("  - name: r\n    match: {}\n    notify: [a]\n",
                      "  a:\n    type: apprise\n    url: nosuchservice://user:hunter22secret@host/tokentokentoken\n")
    (error,) = errors_of(text)
    assert "hunter22secret" not in error and "tokentokentoken" not in error and "****" in error


def test_yes_no_stay_text_and_numbers_keep_their_spelling() -> None:
    """`no` is the text "no" (a tag value), and `1.10` still equals the release text "1.10"."""
    from router.rules.operators import text

    rs = load_rules_text(rules_yaml("  - name: r\n    match: {tags.handled: no, release: 1.10}\n    notify: log\n"),
                         SOURCE, {})
    checks = {c.path: c for c in rs.rules[0].match.children}
    assert checks["tags.handled"].expected == "no"
    assert checks["release"].test("1.10") and not checks["release"].test("1.1")
    assert text(checks["release"].expected) == "1.1"  # plain() drops the spelling for display only


def test_missing_file_is_an_error_for_load_rules(tmp_path: Path) -> None:
    """load_rules on a path that does not exist raises RulesError naming the path."""
    with pytest.raises(RulesError) as info:
        load_rules(str(tmp_path / "nope.yaml"))
    assert info.value.errors == [f"{tmp_path / 'nope.yaml'}:0: file not found"]


_VALID = EXAMPLE_RULES.read_text("utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_files_never_crash_the_loader(data: st.DataObject) -> None:
    """Deleting, duplicating or garbling lines of a valid file gives a RuleSet or a RulesError, nothing else."""
    lines = _VALID.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        how = data.draw(st.sampled_from(["drop", "dup", "garble", "dedent"]))
        if how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "dedent":
            lines[i] = lines[i].lstrip()
        else:
            lines[i] = data.draw(st.text(alphabet="ab:-[]{}#'\" \t${}*&!|>%@`", max_size=20))
    try:
        load_rules_text("\n".join(lines), SOURCE, {})
    except RulesError as exc:
        assert exc.errors and all(e.startswith(f"{SOURCE}:") for e in exc.errors)
