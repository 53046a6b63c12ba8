"""Rules on the research behind an issue's pieces: their sources and when they were reviewed."""

from __future__ import annotations

import calendar
import datetime as dt

from ..errors import display_path
from ..render.renderer import month_year
from ..source.content import front_matter_line
from ..source.models import Chunk
from .findings import Finding, finding
from .registry import CHECK, CheckContext, rule

# The kinds that report on research or a framework's evidence: each should say what it rests on.
NEEDS_SOURCES = ("research-breakdown", "framework-deep-dive")


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day where it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _where(chunk: Chunk, key: str) -> str:
    return f"{display_path(chunk.path)}:{front_matter_line(chunk.path, key)}"


@rule("sources", stages=(CHECK,), order=112)
def _sources(context: CheckContext) -> list[Finding]:
    return [finding("warning", _where(entry.chunk, "kind"),
                    f"a {entry.chunk.kind} without sources",
                    "list what it rests on under 'sources:' (each a citation, with its doi: "
                    "or url: where there is one), as the site's page does", "sources")
            for entry in context.issue.entries
            if entry.chunk.kind in NEEDS_SOURCES and not entry.chunk.sources]


@rule("review-age", stages=(CHECK,), order=114)
def _review_age(context: CheckContext) -> list[Finding]:
    months = context.project.config.check.review_months
    oldest = months_before(context.issue.date, months)
    return [finding("warning", _where(entry.chunk, "reviewed"),
                    f"reviewed {entry.chunk.reviewed}, over {months} month(s) before the issue "
                    f"({context.issue.date}); the email says \"reviewed "
                    f"{month_year(entry.chunk.reviewed)}\"",
                    "check the piece against its sources again and update 'reviewed:' (the "
                    "limit is check.review_months in newsletter.yaml)", "review-age")
            for entry in context.issue.entries
            if entry.chunk.reviewed is not None and entry.chunk.reviewed < oldest]


@rule("review-date", stages=(CHECK,), order=116)
def _review_date(context: CheckContext) -> list[Finding]:
    return [finding("error", _where(entry.chunk, "reviewed"),
                    f"reviewed {entry.chunk.reviewed}, after the issue's date "
                    f"({context.issue.date})",
                    "write the day the piece was last checked against its sources, on or "
                    "before the issue's date", "review-date")
            for entry in context.issue.entries
            if entry.chunk.reviewed is not None and entry.chunk.reviewed > context.issue.date]
