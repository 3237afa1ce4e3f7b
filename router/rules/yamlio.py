"""YAML for hand-edited files: line numbers on every key and item, duplicate keys kept for
reporting, `${VAR}` substitution, and no YAML 1.1 surprises (`no`, `on`, `2024-01-01`, `1.10`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml

Path = tuple[str | int, ...]
Report = Callable[[int, Path, str], None]   # (line, path from the document root, message)


class LMap(dict[Any, Any]):
    """A YAML mapping that remembers where it, its keys and its values are (1-based lines)."""

    line: int
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]
    duplicates: list[tuple[Any, int, int]]      # (key, line, line of the first occurrence)


class LList(list[Any]):
    """A YAML sequence that remembers its line and each item's line."""

    line: int
    item_lines: list[int]


class YInt(int):
    """An int that remembers how it was written, so `0123` or `1_000` compare as written text."""

    raw: str


class YFloat(float):
    """A float that remembers how it was written, so `release: 1.10` still equals "1.10"."""

    raw: str


class _PyLoader(yaml.SafeLoader):
    """SafeLoader with line-aware containers and YAML 1.2-style booleans (only true/false)."""


class _Loader(getattr(yaml, "CSafeLoader", _PyLoader)):  # type: ignore[misc]  # base chosen at import: libyaml's
    """The same, parsed by libyaml when it is installed (about 10x faster on big files)."""


def _setup(loader: type[yaml.SafeLoader]) -> None:
    # Only true/false are booleans; yes/no/on/off stay text (`tags.handled: no` means the string "no").
    # Timestamps stay text too: they are compared with payload strings.
    drop = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    loader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag not in drop]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
    loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
    for tag in ("binary", "set", "omap", "pairs", "timestamp"):  # only text, numbers, true/false, null, maps, lists
        loader.add_constructor(f"tag:yaml.org,2002:{tag}", _refuse_tag)


def _refuse_tag(loader: _Loader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(None, None, f"the tag {node.tag.rsplit(':', 1)[-1]!r} is not "
                                            "allowed here (only text, numbers, true/false, null, maps, lists)",
                                            node.start_mark)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[LMap]:
    result = LMap()
    result.line, result.key_lines, result.value_lines, result.duplicates = node.start_mark.line + 1, {}, {}, []
    yield result
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in result.key_lines:
            result.duplicates.append((key, line, result.key_lines[key]))
        result.key_lines[key] = line
        result.value_lines[key] = value_node.start_mark.line + 1
        result[key] = loader.construct_object(value_node, deep=True)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[LList]:
    result = LList()
    result.line, result.item_lines = node.start_mark.line + 1, [n.start_mark.line + 1 for n in node.value]
    yield result
    result.extend(loader.construct_object(n, deep=True) for n in node.value)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> YInt:
    try:
        value = YInt(loader.construct_yaml_int(node))
    except ValueError:  # more than 4300 digits
        raise yaml.constructor.ConstructorError(None, None, "this number is too long", node.start_mark) from None
    value.raw = node.value
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> YFloat:
    value = YFloat(loader.construct_yaml_float(node))
    value.raw = node.value
    return value


_setup(_PyLoader)
if _Loader is not _PyLoader:
    _setup(_Loader)


class YamlSyntaxError(ValueError):
    """The text is not YAML; `line` is 1-based, the message says what the parser found."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 64            # a real rules file nests about 12 levels
MAX_NODES = 2_000_000     # values after expanding aliases: stops "billion laughs" before it is built


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def check_shape(root: yaml.Node) -> None:
    """Raise YamlSyntaxError for nesting deeper than MAX_DEPTH, alias bombs and recursive aliases (iteratively)."""
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    active: set[int] = set()             # nodes on the current path: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key, line = id(node), node.start_mark.line + 1
        if done:
            active.discard(key)
            kids = _children(node)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            if height[key] > MAX_DEPTH:
                raise YamlSyntaxError(line, f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
            if size[key] > MAX_NODES:
                raise YamlSyntaxError(line, f"invalid YAML: aliases expand to more than {MAX_NODES:,} values")
        elif key in active:
            raise YamlSyntaxError(line, "invalid YAML: an alias refers to a node that contains it")
        elif isinstance(node, yaml.ScalarNode) and _LONE_SURROGATE.search(node.value):
            raise YamlSyntaxError(line, "invalid YAML: a \\ud800-\\udfff escape on its own is not a character")
        elif key not in height:
            active.add(key)
            stack.append((node, True))
            stack.extend((k, False) for k in _children(node) if id(k) not in height)


def _load(text: str, loader_class: type) -> Any:
    """yaml.load, with the composed node graph checked before anything is constructed."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_shape(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str) -> Any:
    """Parse one YAML document into LMap/LList/scalars; raise YamlSyntaxError."""
    try:
        return _load(text, _Loader)
    except yaml.YAMLError:
        pass
    except RecursionError:
        raise YamlSyntaxError(1, f"invalid YAML: nested more than {MAX_DEPTH} levels deep") from None
    try:  # the pure-Python parser words its errors better ("found character '\\t' …"): ask it
        return _load(text, _PyLoader)
    except RecursionError:
        raise YamlSyntaxError(1, f"invalid YAML: nested more than {MAX_DEPTH} levels deep") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context and exc.context != problem else ""
        raise YamlSyntaxError(line, f"invalid YAML: {problem}{context}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"invalid YAML: {' '.join(str(exc).split())}") from None


_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def substitute(tree: Any, environ: Mapping[str, str], report: Report) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string value, and report duplicate keys."""
    return _sub(tree, (), 1, environ, report)


def _sub(value: Any, path: Path, line: int, env: Mapping[str, str], report: Report) -> Any:
    if isinstance(value, LMap):
        for key, dup_line, first in value.duplicates:
            report(dup_line, (*path, key),
                   f"duplicate key (first given on line {first}; YAML would keep only the last)")
        out = LMap()
        out.line, out.key_lines, out.value_lines, out.duplicates = value.line, value.key_lines, value.value_lines, []
        for key, item in value.items():
            out[key] = _sub(item, (*path, key), value.value_lines.get(key, value.line), env, report)
        return out
    if isinstance(value, LList):
        out_list = LList()
        out_list.line, out_list.item_lines = value.line, value.item_lines
        out_list.extend(_sub(item, (*path, i), value.item_lines[i], env, report) for i, item in enumerate(value))
        return out_list
    if isinstance(value, str) and "${" in value:
        return _VAR.sub(lambda m: _expand(m, path, line, env, report), value)
    return value


def _expand(m: re.Match[str], path: Path, line: int, env: Mapping[str, str], report: Report) -> str:
    name, default = m["name"], m["default"]
    value = env.get(name)
    if default is not None:
        return value if value else default    # shell semantics: unset or empty → default
    if value is None:
        report(line, path, f"environment variable {name} is not set (set it, or write ${{{name}:-default}})")
        return ""
    return value
