"""`check`'s findings are errors.Problem with a severity and a rule: one type for both."""

from __future__ import annotations

import re

from ..errors import SEVERITIES, Problem

__all__ = ["SEVERITIES", "Finding", "finding"]

Finding = Problem  # the name rules use in their annotations

_PLACE = re.compile(r"(?P<path>.+):(?P<line>\d+)")


def finding(severity: str, where: str, message: str, hint: str,
            rule: str | None = None) -> Problem:
    """A finding at `where`, a place as shown: 'content/x.md:3', 'newsletter.yaml', 'email'.

    `rule` may be left out: the runner fills in the id of the rule that found it.
    """
    place = _PLACE.fullmatch(where)
    path, line = (place.group("path"), int(place.group("line"))) if place else (where, None)
    return Problem(path, line, None, message, hint, severity, rule)
