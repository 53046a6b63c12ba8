"""The error family: every failure the editor can fix carries where it is and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with the place and a way to fix it: an input file's problem, or one
    of `check`'s findings, which also say how bad it is and which rule found it.

    `path` is a file, or what else the problem is in, already as shown ("email").
    """

    path: Path | str
    line: int | None
    field: str | None
    message: str
    hint: str = ""
    severity: str | None = None  # one of SEVERITIES; None for an input file's problem
    rule: str | None = None      # check's rule id: "css-support", "contrast", "spam"...

    @property
    def where(self) -> str:
        """'content/x.md:3', 'newsletter.yaml', 'email': the place as the editor reads it."""
        shown = display_path(self.path)
        return shown if self.line is None else f"{shown}:{self.line}"

    def located(self) -> str:
        """The place, the field and the message, with the hint: the line without severity."""
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{self.where}: {what}" + (f" (hint: {self.hint})" if self.hint else "")

    def __str__(self) -> str:
        return (f"{self.severity}: " if self.severity else "") + self.located()


def display_path(path: Path | str) -> str:
    """A path as the editor would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        # absolute(), not resolve(): a symlink is shown as the name the editor sees.
        return str(path.absolute().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


class NewsletterError(Exception):
    """Base of every error the CLI turns into 'Error: ...' lines and a non-zero exit."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The messages to show, one per problem, each with its hint."""
        return [self.message + (f" (hint: {self.hint})" if self.hint else "")]


class ValidationError(NewsletterError):
    """Input files are wrong; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the input files")

    def lines(self) -> list[str]:
        return [p.located() for p in self.problems]


class ConfigError(ValidationError):
    """newsletter.yaml is invalid."""


class IssueError(ValidationError):
    """An issue file (digests/*.yaml) is invalid or names what does not exist."""


class NotFoundError(NewsletterError):
    """Something the editor asked for by name does not exist."""


class RenderError(NewsletterError):
    """A template failed to render or compile; the message names the template."""


class OutputError(NewsletterError):
    """Writing the output failed (permissions, full disk)."""
