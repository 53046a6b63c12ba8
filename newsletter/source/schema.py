"""A YAML mapping as one table: which keys it knows, which it needs, how each is read.

The table is the schema, as MkDocs builds its config schema from class attributes
(mkdocs/config/base.py, config_options.py `Optional`, `SubConfig`): it drives the unknown-key
check, the required check and the reading, so no key is listed twice. Unlike MkDocs, every
problem is collected with its line (fields.FieldReader), an unknown key is an error, and a
section's cross-field checks (MkDocs' post-validation) run only once each of its keys is valid.
Keys are read, and listed in the unknown-key hint, in the table's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .fields import FieldReader
from .yamlsource import Key

# A cross-field check: given a section's values, its problems as (key, message, hint), the
# key within the section. Run only when every key it is given is valid.
Check = Callable[[dict[str, Any]], list[tuple[Key, str, str]]]


class Entry(Protocol):
    """One key of a table: its value read from `r` (problems recorded there), and whether it
    is valid. Invalid values are None to whoever reads them."""

    def read(self, r: FieldReader, key: str) -> tuple[Any, bool]: ...


def _valid_if_quiet(r: FieldReader, read: Callable[[], Any]) -> tuple[Any, bool]:
    before = len(r.problems)
    value = read()
    return value, len(r.problems) == before


@dataclass(frozen=True)
class Field:
    """A key with one value; an optional one left out takes `default`."""

    convert: Callable[[Any], Any]
    required: bool = True
    default: Any = None

    def read(self, r: FieldReader, key: str) -> tuple[Any, bool]:
        if self.required:
            return _valid_if_quiet(r, lambda: r.required(key, self.convert))
        return _valid_if_quiet(r, lambda: r.optional(key, self.convert, self.default))


def required(convert: Callable[[Any], Any]) -> Field:
    return Field(convert)


def optional(convert: Callable[[Any], Any], default: Any = None) -> Field:
    return Field(convert, required=False, default=default)


@dataclass(frozen=True)
class Custom:
    """A key whose shape a converter cannot say (a free-form mapping): `read_value(r, key)`
    reads it, and it is valid when it recorded no problem."""

    read_value: Callable[[FieldReader, str], Any]

    def read(self, r: FieldReader, key: str) -> tuple[Any, bool]:
        return _valid_if_quiet(r, lambda: self.read_value(r, key))


@dataclass(frozen=True)
class Section:
    """A mapping: the file itself, or a nested one under a key (MkDocs' SubConfig).

    `build(**values)` makes its value; `checks` run once every key is valid, and a problem
    they find makes the section invalid. An optional section left out takes `default`.
    """

    keys: Mapping[str, Entry]
    build: Callable[..., Any] = dict
    checks: Sequence[Check] = ()
    required: bool = True
    default: Any = None

    def read(self, r: FieldReader, key: str) -> tuple[Any, bool]:
        before = len(r.problems)
        nested = r.section(key, required=self.required)
        if nested is None:
            left_out = not r.broken and len(r.problems) == before
            return (self.default, True) if left_out else (None, False)
        return self.read_mapping(nested)

    def read_mapping(self, r: FieldReader) -> tuple[Any, bool]:
        values, valid = self.read_keys(r)
        if not valid or run_checks(r, self.checks, values):
            return None, False
        return self.build(**values), True

    def read_keys(self, r: FieldReader) -> tuple[dict[str, Any], bool]:
        """Every key's value (None where invalid), and whether all are valid.

        An unknown key is reported but leaves the known ones valid: a check across
        sections still runs on a section with a misspelt extra key.
        """
        r.reject_unknown(self.keys)
        # Not a mapping: reported once, by the reader, whose data is then {}: each key reads
        # as left out, without a problem of its own (an optional one takes its default).
        values, valid = {}, not r.broken
        for key, entry in self.keys.items():
            value, ok = entry.read(r, key)
            values[key] = value if ok else None
            valid = valid and ok
        return values, valid


@dataclass(frozen=True)
class ListOf:
    """A non-empty list of mappings, each read by `item`; `message` when it is not one."""

    item: Section
    message: str
    hint: str

    def read(self, r: FieldReader, key: str) -> tuple[Any, bool]:
        if r.broken:
            return None, False
        raw = r.data.get(key)
        if not isinstance(raw, list) or not raw:
            r.fail((key,), self.message, self.hint)
            return None, False
        values, valid = [], True
        for index, data in enumerate(raw):
            reader = FieldReader(r.doc, r.problems, r.prefix + (key, index), data)
            value, ok = self.item.read_mapping(reader)
            values.append(value)
            valid = valid and ok
        return (tuple(values), True) if valid else (None, False)


def run_checks(r: FieldReader, checks: Sequence[Check], values: dict[str, Any]) -> bool:
    """Run every check on `values`, recording its problems under `r`; True if any found one."""
    found = False
    for check in checks:
        for key, message, hint in check(values):
            r.fail(key, message, hint)
            found = True
    return found
