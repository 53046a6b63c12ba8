"""One finding of `check`: how bad, where, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Finding:
    severity: str   # "error" | "warning" | "note"
    where: str      # "content/x.md:3", "newsletter.yaml:40", "email", "subject"
    message: str    # what is wrong
    hint: str       # how to fix it
    rule: str       # short id, e.g. "css-support", "contrast", "spam"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} (hint: {self.hint})"
