"""Load rules.yaml: parse with line numbers, substitute ${VAR}, validate everything, compile once.

Every problem in the file is collected and reported as one line:
`FILE:LINE: rule "NAME": KEY.PATH: what is wrong (what was expected)`.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from typing import Any

from router.rules.conditions import Compiler, kind
from router.rules.interval_load import IntervalCompiler, interval_names
from router.rules.intervals import TimeInterval
from router.rules.match import build_index
from router.rules.model import GroupBy, Rule, RuleSet, RulesSettings, Target
from router.rules.targets import build_target, unknown_keys
from router.rules.yamlio import LList, LMap, Path, YamlSyntaxError, parse_yaml, substitute

log = logging.getLogger(__name__)

TOP_KEYS = ("version", "settings", "targets", "time_intervals", "rules")
SETTINGS_KEYS = ("dedup_window", "default_throttle")
RULE_KEYS = ("name", "description", "match", "notify", "template", "throttle", "stop", "mute_time_intervals",
             "active_time_intervals", "group")
GROUP_KEYS = ("by", "wait", "interval")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
DEFAULT_RULES = "default_rules.yaml"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a newline or terminal escape from a key must not break the error line


class RulesError(ValueError):
    """A rules file that cannot be used; `.errors` holds one formatted line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def parse_duration(value: Any) -> float | None:
    """Seconds from `30s`, `10m`, `2h`, `1d`, `1h30m`, `0` or `0s`; None if it is not a duration."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip() == "0":
        return 0.0
    parts = _DURATION.findall(value.strip())
    if "".join(n + u for n, u in parts) != value.strip():
        return None
    return float(sum(int(n) * _UNITS[u] for n, u in parts))


def read_rules_file(path: str) -> str:
    """A rules file's text; RulesError when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise RulesError([f"{path}:0: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{path}:0: cannot read: {exc}"]) from None


def load_rules(path: str, environ: Mapping[str, str] | None = None) -> RuleSet:
    """Load and compile a rules file; raise RulesError listing every problem."""
    return load_rules_text(read_rules_file(path), path, environ)


def load_default_rules() -> RuleSet:
    """The packaged fallback (everything to the console), used when the rules file is missing."""
    text = resources.files("router").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
    return load_rules_text(text, f"<package>/{DEFAULT_RULES}", {})


def load_rules_or_default(path: str, environ: Mapping[str, str] | None = None) -> RuleSet:
    """`load_rules`, except that a missing file gives the packaged default (with a WARNING)."""
    if not os.path.exists(path):
        log.warning("rules file %s does not exist: using the built-in default (everything to the console)", path)
        return load_default_rules()
    return load_rules(path, environ)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building a large tree of new objects triggers the cyclic GC again and again (5x slower at 10k rules)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_rules_text(text: str, source_name: str, environ: Mapping[str, str] | None = None) -> RuleSet:
    """Load and compile rules from text; `source_name` is the file name used in error lines."""
    with _gc_paused():
        return _load_text(text, source_name, environ)


def _load_text(text: str, source_name: str, environ: Mapping[str, str] | None) -> RuleSet:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        raw = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise RulesError([f"{source_name}:{exc.line}: {exc}"]) from None
    loader = _Loader(source_name, raw)
    tree = substitute(raw, os.environ if environ is None else environ, loader.report)
    loader.tree = tree
    ruleset = loader.build(tree, digest)
    if loader.problems:
        raise RulesError(loader.formatted())
    return ruleset


class _Loader:
    """One load: validates the tree, collects problems, builds the RuleSet."""

    def __init__(self, source: str, tree: Any) -> None:
        self.source, self.tree = source, tree
        self.problems: list[tuple[int, Path, str]] = []
        self.unset: set[Path] = set()       # values whose ${VAR} was missing: nothing more to say
        self.compiler = Compiler(self.report)
        self.intervals: dict[str, TimeInterval] = {}
        self.selectable = False             # some target has selectable: true (for notify: [{setting: …}])

    def report(self, line: int, path: Path, message: str) -> None:
        """Record one problem at a line and key path (not a second one about an unset ${VAR}'s value)."""
        if message.startswith("environment variable "):
            self.unset.add(path)
        elif path in self.unset:
            return
        self.problems.append((line, path, message))

    def formatted(self) -> list[str]:
        """Every problem as `FILE:LINE: scope: key.path: message`, in file order."""
        return [self._format(*p) for p in sorted(self.problems, key=lambda p: p[0])]

    def _format(self, line: int, path: Path, message: str) -> str:
        scope, rest = self._scope(path)
        parts = [f"{self.source}:{line}", scope, ".".join(str(p) for p in rest), message]
        return _CONTROL.sub(lambda m: repr(m[0])[1:-1], ": ".join(p for p in parts if p))  # one line, no escapes

    def _scope(self, path: Path) -> tuple[str, Path]:
        if len(path) >= 2 and path[0] in ("rules", "time_intervals") and isinstance(path[1], int):
            items = self.tree.get(path[0]) if isinstance(self.tree, dict) else None
            item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
            name = item.get("name") if isinstance(item, dict) else None
            what = "rule" if path[0] == "rules" else "time interval"
            return (f'{what} "{name}"' if isinstance(name, str) and name else f"{what} #{path[1] + 1}"), path[2:]
        if len(path) >= 2 and path[0] == "targets":
            return f'target "{path[1]}"', path[2:]
        if path and path[0] == "settings":
            return "settings", path[1:]
        return "", path

    def build(self, tree: Any, digest: str) -> RuleSet:
        """Validate the whole document and compile it."""
        if not isinstance(tree, LMap):
            got = "the file is empty" if tree is None else f"got {kind(tree)}"
            self.report(1, (), f"expected a mapping with keys {', '.join(TOP_KEYS)} ({got})")
            return RuleSet(rules=(), targets={})
        unknown_keys(tree, TOP_KEYS, (), self.report)
        version = tree.get("version")
        if not (isinstance(version, int) and not isinstance(version, bool) and version == 1):
            got = "missing" if "version" not in tree else f"unsupported version {tree['version']!r}"
            self.report(tree.value_lines.get("version", 1), ("version",), f"{got} (expected version: 1)")
        settings = self.settings(tree.get("settings"), tree.value_lines.get("settings", 1))
        target_names, targets = self.targets(tree.get("targets"), tree.value_lines.get("targets", 1))
        self.intervals = IntervalCompiler(self.report).block(tree.get("time_intervals"),
                                                             tree.value_lines.get("time_intervals", 1))
        rules = self.rules(tree.get("rules"), tree.value_lines.get("rules", 1), target_names)
        return RuleSet(rules=rules, targets=targets, settings=settings, source=self.source, digest=digest,
                       index=build_index(rules), time_intervals=self.intervals)

    def settings(self, spec: Any, line: int) -> RulesSettings:
        """The `settings:` block (optional)."""
        if spec is None:
            return RulesSettings()
        if not isinstance(spec, LMap):
            self.report(line, ("settings",), f"expected a mapping, got {kind(spec)}")
            return RulesSettings()
        unknown_keys(spec, SETTINGS_KEYS, ("settings",), self.report)
        values = {key: self.duration(spec[key], ("settings", key), spec.value_lines[key])
                  for key in SETTINGS_KEYS if key in spec}
        return RulesSettings(**{k: v for k, v in values.items() if v is not None})

    def duration(self, value: Any, path: Path, line: int) -> float | None:
        """A duration in seconds, or None after reporting it."""
        seconds = parse_duration(value)
        if seconds is None:
            shown = f'"{value}"' if isinstance(value, str) else kind(value)
            self.report(line, path, f"bad duration {shown} (expected a number and a unit, like 30s, 10m, 2h, 1d, or 0)")
        return seconds

    def targets(self, spec: Any, line: int) -> tuple[frozenset[str], dict[str, Target]]:
        """The `targets:` block: names declared (valid or not) and the valid targets."""
        if spec is None:
            return frozenset(), {}
        if not isinstance(spec, LMap):
            self.report(line, ("targets",), f"expected a mapping of target names to targets, got {kind(spec)}")
            return frozenset(), {}
        built = {str(name): build_target(str(name), item, ("targets", str(name)), spec.value_lines[name], self.report)
                 for name, item in spec.items()}
        valid = {k: v for k, v in built.items() if v is not None}
        self.selectable = any(t.selectable for t in valid.values())
        return frozenset(built), valid

    def rules(self, spec: Any, line: int, targets: frozenset[str]) -> tuple[Rule, ...]:
        """The `rules:` list, in order."""
        if not isinstance(spec, LList):
            got = "missing" if spec is None else f"got {kind(spec)}"
            self.report(line, ("rules",), f"{got} (expected a list of rules, each starting with - name:)")
            return ()
        seen: dict[str, int] = {}
        built = [self.rule(item, i, spec.item_lines[i], targets, seen) for i, item in enumerate(spec)]
        return tuple(r for r in built if r is not None)

    def rule(self, spec: Any, i: int, line: int, targets: frozenset[str], seen: dict[str, int]) -> Rule | None:
        """One rule, validated and compiled."""
        path: Path = ("rules", i)
        if not isinstance(spec, LMap):
            self.report(line, path, f"expected a mapping with name:, match: and notify:, got {kind(spec)}")
            return None
        unknown_keys(spec, RULE_KEYS, path, self.report)
        def at(key: str) -> int:
            return spec.value_lines.get(key, spec.line)

        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            got = "missing" if "name" not in spec else f"got {kind(name)}"
            self.report(at("name"), (*path, "name"), f"{got} (expected a unique rule name)")
        elif name in seen:
            self.report(at("name"), (*path, "name"), f'duplicate rule name (first used on line {seen[name]})')
        else:
            seen[name] = at("name")
        if "match" not in spec:
            self.report(spec.line, (*path, "match"),
                        "missing (expected a mapping of conditions; {} matches everything)")
        match = self.compiler.block(spec.get("match"), (*path, "match"), at("match")) if "match" in spec else None
        notify, notify_settings = self.notify(spec, path, targets)
        stop = spec.get("stop", False)
        if not isinstance(stop, bool):
            self.report(at("stop"), (*path, "stop"), f"expected true or false, got {kind(stop)}")
        elif not notify and not notify_settings and not stop and "notify" not in spec:
            self.report(spec.line, (*path, "notify"),
                        "missing: this rule notifies nobody (add notify: [TARGET], or stop: true)")
        template = spec.get("template")
        if template is not None and (not isinstance(template, str) or not _TEMPLATE_NAME.match(template)):
            self.report(at("template"), (*path, "template"),
                        f"expected a template name like issue, got {kind(template)}")
        throttle = self.duration(spec["throttle"], (*path, "throttle"), at("throttle")) if "throttle" in spec else None
        description = spec.get("description", "")
        if not isinstance(description, str):
            self.report(at("description"), (*path, "description"), f"expected text, got {kind(description)}")
        group = self.group(spec["group"], (*path, "group"), at("group")) if "group" in spec else None
        quiet = {key: interval_names(spec[key], (*path, key), at(key), self.intervals, self.report)
                 for key in ("mute_time_intervals", "active_time_intervals") if key in spec}
        return Rule(name=str(name), match=match, notify=notify, notify_settings=notify_settings,
                    template=template, throttle=throttle,
                    stop=stop is True, description=str(description or ""), line=spec.line, group=group, **quiet)

    def group(self, spec: Any, path: Path, line: int) -> GroupBy | None:
        """`group: {by: [paths or shortcuts], wait: 30s, interval: 5m}`, validated."""
        if not isinstance(spec, LMap):
            self.report(line, path, f"expected a mapping with by:, wait: and interval:, got {kind(spec)}")
            return None
        unknown_keys(spec, GROUP_KEYS, path, self.report)
        def at(key: str) -> int:
            return spec.value_lines.get(key, spec.line)

        by = spec.get("by", LList())
        keys = [by] if isinstance(by, str) else list(by) if isinstance(by, LList) else None
        if keys is None or not all(isinstance(k, str) for k in keys):
            self.report(at("by"), (*path, "by"), f"expected a path or shortcut, or a list of them, got {kind(by)}")
            keys = []
        valid = all([self.compiler.valid_path(k, (*path, "by", i), at("by")) for i, k in enumerate(keys)])
        wait = self.duration(spec["wait"], (*path, "wait"), at("wait")) if "wait" in spec else GroupBy.wait
        interval = self.duration(spec["interval"], (*path, "interval"), at("interval")) if "interval" in spec \
            else GroupBy.interval
        if not valid or wait is None or interval is None:
            return None
        return GroupBy(by=tuple(keys), wait=wait, interval=interval)

    def notify(self, spec: LMap, path: Path, targets: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """`notify:` — target names declared under `targets:`, and `{setting: NAME}` items (the target an
        alert-rule action chose in Sentry); (names, setting names)."""
        value, line = spec.get("notify"), spec.value_lines.get("notify", spec.line)
        if "notify" not in spec:
            return (), ()
        items = [value] if isinstance(value, (str, LMap)) else list(value) if isinstance(value, LList) else None
        lines = list(value.item_lines) if isinstance(value, LList) else [line]
        if not items or not all(isinstance(n, (str, LMap)) for n in items):
            hint = " (or leave notify: out and set stop: true)" if spec.get("stop") is True else ""
            self.report(line, (*path, "notify"),
                        f"expected a target name or a list of target names, got {kind(value)}{hint}")
            return (), ()
        known = ", ".join(sorted(targets)) or "none: add a targets: block"
        names, settings = [], []
        for n, at in zip(items, lines, strict=False):
            if isinstance(n, LMap):
                setting = self.setting_item(n, (*path, "notify"), at)
                settings.extend([setting] if setting else [])
            elif n not in targets:
                self.report(line, (*path, "notify"), f'unknown target "{n}" (expected one of {known})')
            else:
                names.append(n)
        return tuple(dict.fromkeys(names)), tuple(dict.fromkeys(settings))

    def setting_item(self, item: LMap, path: Path, line: int) -> str | None:
        """One `{setting: NAME}` item of `notify:`; the setting's name, or None after reporting it."""
        name = item.get("setting")
        if list(item) != ["setting"] or not isinstance(name, str) or not _SETTING_NAME.match(name):
            self.report(line, path, f"expected a target name or {{setting: NAME}} (NAME: the alert-rule action "
                                    f"setting that names the target, e.g. target), got {kind(item)}")
            return None
        if not self.selectable:
            self.report(line, path, f'{{setting: {name}}}: no target has selectable: true, so nobody can pick one in '
                                    "Sentry's alert-rule editor (mark the targets users may choose)")
        return name
