"""YAML text -> located data: plain Python values plus the line:column of every key and value.

The loader reads YAML 1.2's core schema rather than PyYAML's YAML 1.1 defaults: `1e-3` is a
number, `yes`/`no`/`on`/`off` stay strings, dates stay strings. Duplicate keys, Python tags and
other non-data tags are errors, and nesting depth and alias expansion are bounded.

Example:
    located = load_text("name: mlp\\nsequential: []\\n", "mlp.yaml")
    located.where(("sequential",))   # -> (2, 13)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelspec.errors import Problem, SpecError, quote
from modelspec.paths import PathProblem, check_regular, open_regular

Path_ = tuple[str | int, ...]

MAX_NODES = 100_000  # values produced after alias expansion ("billion laughs" guard); a 4,000-layer spec has ~30,000
MAX_DEPTH = 100  # nesting of mappings and sequences
MAX_BYTES = 16 * 1024 * 1024


class _CoreSchemaLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it: 5x faster
    """SafeLoader with YAML 1.2 core-schema scalars."""


_CoreSchemaLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    _CoreSchemaLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def _to_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


_SCALARS = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": _to_int,
    "tag:yaml.org,2002:float": _to_float,
    "tag:yaml.org,2002:bool": lambda text: text.lower() == "true",
    "tag:yaml.org,2002:null": lambda text: None,
}


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _tag_message(tag: str) -> str:
    return f"the YAML tag {quote(tag)} is not allowed in a spec: only plain data (strings, numbers, booleans, null, lists, mappings)"


@dataclass
class Located:
    """Parsed YAML data with the 1-based (line, column) of each value and each mapping key, by path.

    `origins` names the values that came from elsewhere than the file (a `--set fit.epochs=3`),
    by path: a problem at or under such a path is located there, not at a line of the file.
    """

    data: Any
    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    origins: dict[Path_, str] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> tuple[str, tuple[int, int] | None]:
        """(file or origin, line:column) of the value (or key) at `path`, or of the closest enclosing one."""
        path = tuple(path)
        if key and path in self.keys and path not in self.origins:
            return self.file, self.keys[path]
        while path:
            if path in self.origins:
                return self.origins[path], None
            if path in self.values:
                return self.file, self.values[path]
            path = path[:-1]
        return self.file, self.values.get(())

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int] | None:
        """Line:column in the file of the value (or its key) at `path`, or of the closest enclosing value."""
        file, line_col = self.locate(path, key=key)
        return line_col if file == self.file else None

    def problem(self, message: str, path: Path_ = (), *, key: bool = False) -> Problem:
        file, line_col = self.locate(path, key=key)
        line, column = line_col if line_col else (None, None)
        return Problem(message, file, line, column)


class _Builder:
    """Turns a composed YAML node tree into Python values, recording locations and problems."""

    def __init__(self, located: Located):
        self.located = located
        self.problems: list[Problem] = []
        self.count = 0

    def _problem(self, message: str, mark: yaml.Mark) -> None:
        self.problems.append(Problem(message, self.located.file, mark.line + 1, mark.column + 1))

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError([Problem(f"the document expands to more than {MAX_NODES:,} values (aliases expanding without bound?)", self.located.file)])
        if depth > MAX_DEPTH:
            raise SpecError([Problem(f"nesting deeper than {MAX_DEPTH} levels", self.located.file, node.start_mark.line + 1, node.start_mark.column + 1)])
        self.located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTION_TAGS:
            self._problem(_tag_message(node.tag), node.start_mark)
            return None
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem("a mapping key must be a plain name, received a collection", key_node.start_mark)
                    continue
                key = self._scalar(key_node)
                if key is None:
                    continue
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    first = self.located.keys[(*path, key)]
                    self._problem(f"duplicate key {quote(key)} (first given at line {first[0]})", key_node.start_mark)
                    continue
                self.located.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, (*path, key), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        convert = _SCALARS.get(node.tag)
        if convert is None:
            self._problem(_tag_message(node.tag), node.start_mark)
            return None
        try:
            return convert(node.value)
        except ValueError:
            self._problem(f"{quote(node.value)} is not a valid {node.tag.rsplit(':', 1)[-1]}", node.start_mark)
            return None


def _check_nesting(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the parser's events, before composing: libyaml's
    composer recurses in C, and text nested 100,000 deep overflowed its stack (a segmentation fault)."""
    depth = 0
    for event in yaml.parse(text, Loader=_CoreSchemaLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise SpecError([Problem(f"nesting deeper than {MAX_DEPTH} levels", file, mark.line + 1, mark.column + 1)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_text(text: str, file: str = "<spec>") -> Located:
    """Parse YAML text into located data. Raises SpecError with every problem found."""
    located = Located(None, file)
    if len(text) > MAX_BYTES:
        raise SpecError([Problem(f"the spec is {len(text):,} characters, more than the {MAX_BYTES:,} allowed", file)])
    try:
        _check_nesting(text, file)
        node = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        if "maximum nesting depth" in message:  # PyYAML >= 6.0.4's scanner can stop first, at its own limit of 1,000
            raise SpecError([Problem(f"nesting deeper than {MAX_DEPTH} levels", file, line, column)]) from None
        raise SpecError([Problem(f"invalid YAML: {message}", file, line, column)]) from None
    except yaml.YAMLError as error:
        raise SpecError([Problem(f"invalid YAML: {error}", file)]) from None
    except RecursionError:
        raise SpecError([Problem(f"nesting too deep (more than {MAX_DEPTH} levels)", file)]) from None
    if node is None:
        raise SpecError([Problem("the spec is empty: expected a mapping with 'sequential:' or 'inputs:'/'layers:'/'outputs:'", file, 1, 1)])
    builder = _Builder(located)
    located.data = builder.build(node, (), 0)
    if builder.problems:
        raise SpecError(builder.problems)
    if not isinstance(located.data, dict):
        raise SpecError([located.problem(f"a spec must be a mapping of keys (name, sequential, layers, ...), received a {type(located.data).__name__}")])
    return located


class SpecFileError(SpecError):
    """A spec file that cannot be read (missing, not a regular file, too large, not UTF-8): `reason` says why."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None):
        super().__init__([Problem(reason, str(path), line, 1 if line else None)])
        self.path = str(path)
        self.reason = reason


def _too_large(size: int) -> str:
    return f"the file is {size:,} bytes or more, more than the {MAX_BYTES:,} (16 MiB) a spec may have"


def read_spec_bytes(path: str | Path) -> bytes:
    """The bytes of a spec file, at most MAX_BYTES: its kind and size are checked before reading, and
    no more than MAX_BYTES + 1 bytes are read (a file growing meanwhile is refused too)."""
    try:
        size = check_regular(path)
        if size > MAX_BYTES:
            raise SpecFileError(path, _too_large(size))
        with open_regular(path) as handle:
            raw = handle.read(MAX_BYTES + 1)
    except PathProblem as problem:
        raise SpecFileError(path, "no such file" if problem.missing else problem.reason) from None
    except OSError as error:
        raise SpecFileError(path, f"cannot read the file: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise SpecFileError(path, _too_large(len(raw)))
    return raw


def load_file(path: str | Path) -> Located:
    """Read and parse a spec file. Missing, special (FIFO, device, directory), oversized, unreadable
    or non-UTF-8 files raise SpecFileError (a SpecError)."""
    raw = read_spec_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SpecFileError(path, f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})", line) from None
    return load_text(text, str(path))
