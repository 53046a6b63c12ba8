"""YAML loading that remembers the line of every key, so problems can point at them."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

Key = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """Parsed data plus the 1-based line of each key path, e.g. ("image", "alt") -> 9."""

    path: Path
    data: Any
    lines: dict[Key, int] = field(default_factory=dict)
    first_line: int = 1

    def line_of(self, key: Key) -> int:
        """The line of `key`, or of its nearest parent, or of the document start."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.first_line


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A date, or the text of an impossible one (2026-02-30) for the field check to report.

    PyYAML would raise a bare ValueError with no position for it. A plain function,
    so both loaders below can share it.
    """
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


class _Loader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader: slow, but its error messages are the ones we show."""


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Loader.add_constructor(_TIMESTAMP, _timestamp_or_text)

_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        """libyaml's parser, ten times faster, for the common case of a valid file."""

    _FastLoader.add_constructor(_TIMESTAMP, _timestamp_or_text)


class _Lines:
    """Line numbers as an editor counts them: only \\n, \\r\\n and \\r end a line.

    PyYAML's own marks also count U+2028, U+2029 and U+0085, which editors show
    inline, so every later line number would be off.
    """

    def __init__(self, text: str, first_line: int) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        self.first_line = first_line

    def at(self, index: int) -> int:
        return self.first_line + bisect.bisect_right(self.starts, index) - 1


def load_yaml(text: str, path: Path,
              first_line: int = 1) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse `text` (which starts at line `first_line` of `path`) safely.

    Returns the document, or None with the problem. Duplicate keys are
    reported: PyYAML would otherwise silently keep the last one.
    """
    # A byte-order mark (Notepad writes one) is no character of the file's first line,
    # and libyaml's marks would not count it while PyYAML's do.
    text = text.removeprefix("\ufeff")
    lines = _Lines(text, first_line)
    if _FastLoader is not None:
        try:
            return _load_with(_FastLoader, text, path, lines)
        except Exception:  # any problem: the pure loader below words it as we show it
            pass
    try:
        return _load_with(_Loader, text, path, lines)
    except yaml.reader.ReaderError as exc:
        return None, [Problem(path, lines.at(exc.position), None,
                              f"contains an invisible control character ({chr(exc.character)!r})",
                              "delete it; it often comes with text pasted from elsewhere")]
    except yaml.constructor.ConstructorError as exc:
        line = lines.at(exc.problem_mark.index) if exc.problem_mark else first_line
        return None, [Problem(path, line, None, f"YAML feature not allowed here: {exc.problem}",
                              "write plain values; tags such as !!python/... are not read")]
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(exc, path, lines)]
    except yaml.YAMLError as exc:
        return None, [Problem(path, first_line, None, f"YAML error: {' '.join(str(exc).split())}",
                              "check the file is valid YAML")]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # PyYAML's constructors raise these for explicit tags it cannot honour
        # ('!!int abc', '!!bool maybe') and for absurd nesting.
        return None, [Problem(path, first_line, None,
                              f"a value cannot be read ({type(exc).__name__}: {exc})",
                              "write plain values without '!!' tags or deep [[[nesting]]]")]


def _load_with(loader_class: type, text: str, path: Path,
               lines: _Lines) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse with one loader; its errors propagate for `load_yaml` to word."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    doc = YamlDocument(path, data, first_line=lines.first_line)
    problems: list[Problem] = []
    if node is not None:
        _record_lines(node, (), doc, lines, problems, set())
    if any("YAML alias" in problem.message for problem in problems):
        return None, problems
    return doc, problems


def _syntax_problem(exc: yaml.MarkedYAMLError, path: Path, lines: _Lines) -> Problem:
    # For an unclosed quote or bracket PyYAML's problem mark is where it gave up,
    # often the end of the file; the context mark is where the quote was opened.
    opened = exc.context and re.match(r"while (scanning a quoted|parsing a flow)", exc.context)
    mark = exc.context_mark if opened and exc.context_mark else exc.problem_mark or exc.context_mark
    where = lines.at(mark.index) if mark else lines.first_line
    what = exc.problem or "invalid YAML"
    if opened:
        what = f"{what} {exc.context}"
    return Problem(path, where, None, f"YAML syntax error: {what}",
                   "check indentation and closing quotes or brackets, and quote values "
                   "that contain ': ' or start with a symbol")


def _record_lines(node: yaml.Node, prefix: Key, doc: YamlDocument, lines: _Lines,
                  problems: list[Problem], visited: set[int]) -> None:
    """Record key lines, refusing aliases: a node met twice was reached through '*name'.

    Aliases are refused rather than followed, since a few hundred bytes of
    nested aliases expand to millions of values.
    """
    if id(node) in visited:
        # The node's own mark is the anchor's; the alias sits under its parent key.
        parent = prefix[:-1] if prefix and isinstance(prefix[-1], int) else prefix
        if not any("YAML alias" in problem.message for problem in problems):
            problems.append(Problem(doc.path, doc.line_of(parent), dotted(prefix) or None,
                                    "repeats another value through a YAML alias",
                                    "write the value out instead of using & and *"))
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = lines.at(key_node.start_mark.index)
            if key in seen:
                problems.append(Problem(doc.path, line, dotted(prefix + (key,)),
                                        "appears twice", "keep one of the two"))
            seen.add(key)
            doc.lines[prefix + (key,)] = line
            _record_lines(value_node, prefix + (key,), doc, lines, problems, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[prefix + (index,)] = lines.at(item.start_mark.index)
            _record_lines(item, prefix + (index,), doc, lines, problems, visited)


def dotted(key: Key) -> str:
    """('chunks', 2, 'id') -> 'chunks[2].id', as an editor would point at it."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
