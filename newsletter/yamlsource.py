"""YAML loading that remembers the line of every key, so problems can point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

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


def read_source(path: Path, problems: list[Problem]) -> str | None:
    """The text of an input file, or None with a problem saying why it can't be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(path, None, None, f"is not UTF-8 text ({exc.reason})",
                                "save the file as UTF-8"))
    except OSError as exc:
        problems.append(Problem(path, None, None, f"cannot be read: {exc.strerror}",
                                "check the file's permissions"))
    return None


def load_yaml(text: str, path: Path,
              first_line: int = 1) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse `text` (which starts at line `first_line` of `path`) safely.

    Returns the document, or None with the syntax problem. Duplicate keys are
    reported: PyYAML would otherwise silently keep the last one.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        what = exc.problem or "invalid YAML"
        return None, [
            Problem(path, line, None, f"YAML syntax error: {what}",
                    "check indentation, and quote values that contain ': ' or start with a symbol")
        ]
    except yaml.YAMLError as exc:
        return None, [Problem(path, first_line, None, f"YAML error: {exc}",
                              "check the file is valid YAML")]
    finally:
        loader.dispose()

    doc = YamlDocument(path, data, first_line=first_line)
    problems: list[Problem] = []
    if node is not None:
        _record_lines(node, (), doc, problems)
    return doc, problems


def _record_lines(node: yaml.Node, prefix: Key, doc: YamlDocument, problems: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = doc.first_line + key_node.start_mark.line
            if key in seen:
                problems.append(Problem(doc.path, line, dotted(prefix + (key,)),
                                        "appears twice", "keep one of the two"))
            seen.add(key)
            doc.lines[prefix + (key,)] = line
            _record_lines(value_node, prefix + (key,), doc, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[prefix + (index,)] = doc.first_line + item.start_mark.line
            _record_lines(item, prefix + (index,), doc, problems)


def dotted(key: Key) -> str:
    """('chunks', 2, 'id') -> 'chunks[2].id', as an editor would point at it."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out

