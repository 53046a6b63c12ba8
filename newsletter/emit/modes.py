"""The emit modes by name: `--mode` takes its choices and help from this table.

A new send path is a module with an `EmitMode` class and one line here; `run.py` and
`commands/emit.py` need no edit. A mode whose requirements are missing stays listed (its
name is known) and is refused with its `disabled_message`, as Pelican does for readers.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NewsletterError
from ..source.config import Config
from .context import EmitMode
from .drafts import BccMode, EmlMode
from .mailto_mode import MailtoMode
from .smtp import SmtpMode

MODES: dict[str, type[EmitMode]] = {mode.name: mode for mode in (EmlMode, BccMode, MailtoMode,
                                                                 SmtpMode)}
DEFAULT = "eml"


def register(mode: type[EmitMode]) -> type[EmitMode]:
    """Add a mode to the table (usable as a class decorator); its name must be new."""
    if mode.name in MODES:
        raise ValueError(f"emit mode {mode.name!r} is registered already")
    MODES[mode.name] = mode
    return mode


def mode_class(name: str, config: Config) -> type[EmitMode]:
    """The mode called `name`, if this project can use it."""
    mode = MODES.get(name)
    if mode is None:
        raise NewsletterError(f"unknown mode {name!r}", f"use one of: {', '.join(MODES)}")
    if not mode.enabled(config):
        usable = [other for other, cls in MODES.items() if cls.enabled(config)]
        raise NewsletterError(f"--mode {name} cannot be used: {mode.disabled_message}",
                              f"fix that, or use one of: {', '.join(usable)}")
    return mode


def help_text() -> str:
    """`--mode`'s help: each mode's one line."""
    return "; ".join(f"{name}: {mode.help}" for name, mode in MODES.items()) + "."


def folders() -> list[str]:
    """Every mode's subfolders: a resumed run cleans them whichever mode wrote them."""
    return sorted({folder for mode in MODES.values() for folder in mode.folders})


def with_companions(path: Path) -> list[Path]:
    """A ledger's file and those that go with it (mailto.txt's page is mailto.html)."""
    return [path, *(path.with_suffix(companion) for mode in MODES.values()
                     for suffix, companion in mode.companions.items() if path.suffix == suffix)]
