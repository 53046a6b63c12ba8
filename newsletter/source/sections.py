"""newsletter.yaml's top-level keys and cross-section checks, declared by the stages owning them.

A stage declares its section and its checks in its own module, at import, by name:

    declare_section("smtp", Section({...}, build=Smtp, required=False), owner=__name__)
    declare_check("unsubscribe_link", check, needs=("sender", "signup"), owner=__name__)

config.py declares the core keys the same way, and reads newsletter.yaml with whatever is
declared when `load_config` runs: unknown keys, required keys and the checks all come from
here, so a new stage edits no other stage's module.

Why by import, and what keeps a declaration from being missed: source may not import later
stages (tests/test_layout.py), so it cannot go and fetch their declarations, and a loud
failure when one is missing would refuse every caller that loads the config without mail
(a contrast check, a render). Instead tests/test_config_sections.py holds, from the source
itself, that every module outside source/ that loads newsletter.yaml imports (at any
depth) every module that declares a section or a check: a command that would load the
config without one fails that test, naming both. A key in the file whose section is not
declared is an unknown key, an error; `Config.sections[name]` is a KeyError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .schema import Check, Entry


@dataclass(frozen=True)
class Declared:
    entry: Entry
    owner: str  # the declaring module, for the message when two stages claim a name


@dataclass(frozen=True)
class DeclaredCheck:
    check: Check
    needs: tuple[str, ...]  # the top-level keys it reads: it runs once all are there and valid
    owner: str


# In declaration order; in_order() gives the order keys are read and listed in the hint.
SECTIONS: dict[str, Declared] = {}
CHECKS: dict[str, DeclaredCheck] = {}


def in_order(core_owner: str) -> list[tuple[str, Declared]]:
    """The sections in the order keys are read and listed: the core ones as declared, then the
    later stages' by name (their modules may be imported in any order)."""
    core = [(name, d) for name, d in SECTIONS.items() if d.owner == core_owner]
    return core + sorted((name, d) for name, d in SECTIONS.items() if d.owner != core_owner)


def declare_section(name: str, entry: Entry, *, owner: str) -> None:
    """Make `name` a top-level key of newsletter.yaml, read by `entry` (a schema.Section, or a
    schema.Field for a single value). Declaring it again from the same module replaces it."""
    _claim(SECTIONS, name, owner, "section")
    SECTIONS[name] = Declared(entry, owner)


def declare_check(name: str, check: Check, *, needs: Sequence[str], owner: str) -> None:
    """Run `check` on the top-level values once the sections in `needs` are valid; its
    problems' keys start from the top ("signup", "unsubscribe_body")."""
    _claim(CHECKS, name, owner, "check")
    CHECKS[name] = DeclaredCheck(check, tuple(needs), owner)


def _claim(table: dict, name: str, owner: str, what: str) -> None:
    if name in table and table[name].owner != owner:
        raise ValueError(f"config {what} {name!r} is declared by both {table[name].owner} "
                         f"and {owner}")


def checks_for(values: dict[str, object]) -> list[Check]:
    """The declared checks whose `needs` are all present and valid (not None) in `values`:
    a check of an optional section left out does not run."""
    return [declared.check for declared in CHECKS.values()
            if all(values.get(name) is not None for name in declared.needs)]
