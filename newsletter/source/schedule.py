"""The cadence the site promises (every 2-4 weeks at most) and the next issue `new` proposes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import NewsletterError, display_path
from ..output import create_atomic
from .compose import DIGESTS_DIR
from .models import KINDS, Chunk, Issue
from .project import Project

INTRO_PLACEHOLDER = "Write the intro here"


@dataclass(frozen=True)
class WentOut:
    """When an issue reached its readers, as a later stage read it (emit/history.py reads
    the ledgers): the day it was sent (SMTP) or emitted in full (drafts, mailto: links)."""

    on: dt.date
    how: str  # "sent" | "emitted in full"


# Given by the caller, so source/ never reads emit/'s ledgers itself (the stage order).
WentOutOf = Callable[[Issue], WentOut | None]


@dataclass(frozen=True)
class Window:
    """When the next issue may go out: not before `earliest`, not after `latest`.

    Counted from `since`, the newest issue that went out (`went_out` says when and how),
    or from the last issue's date when none did (`went_out` None)."""

    last: Issue | None
    earliest: dt.date | None
    latest: dt.date | None
    since: Issue | None = None
    went_out: WentOut | None = None

    def state(self, today: dt.date) -> str:
        if self.last is None:
            return "no issue yet: the first can go out any time"
        if today < self.earliest:
            return f"too early: the next issue is due from {self.earliest} to {self.latest}"
        if today > self.latest:
            return f"overdue by {(today - self.latest).days} day(s): it was due by {self.latest}"
        return f"due now: from {self.earliest} to {self.latest}"

    def counted_from(self) -> str:
        """Where the window starts, as a sentence for `status`."""
        if self.since is None:
            return "no issue yet"
        if self.went_out is None:
            return (f"counted from issue {self.since.number}'s date ({self.since.date}): no "
                    "issue has been sent or emitted in full yet")
        return (f"counted from issue {self.since.number}, {self.went_out.how} on "
                f"{self.went_out.on}")


def window(project: Project, went_out: WentOutOf | None = None) -> Window:
    """The cadence window, from the newest issue `went_out` says reached its readers, else
    from the last issue's date (also when `went_out` is not given)."""
    cadence = project.config.cadence
    if not project.issues:
        return Window(None, None, None)
    last = project.issues[-1]
    since, out = last, None
    for issue in reversed(project.issues):
        out = went_out(issue) if went_out else None
        if out is not None:
            since = issue
            break
    start = out.on if out else last.date
    return Window(last, start + dt.timedelta(days=cadence.min_days),
                  start + dt.timedelta(days=cadence.max_days), since, out)


def unsent_chunks(project: Project, by: dt.date | None = None) -> list[Chunk]:
    """Chunks in no issue yet (and, with `by`, published on the site by then), newest first."""
    used = {entry.chunk.id for issue in project.issues for entry in issue.entries}
    fresh = [chunk for chunk in project.chunks.values()
             if chunk.id not in used and (by is None or chunk.date <= by)]
    return sorted(fresh, key=lambda chunk: (chunk.date, chunk.id), reverse=True)


def pick_chunks(chunks: list[Chunk], limit: int) -> list[Chunk]:
    """Newest first, but a mix of kinds: take the newest of each kind in turn."""
    by_kind: dict[str, list[Chunk]] = {}
    for chunk in chunks:  # already newest first
        by_kind.setdefault(chunk.kind, []).append(chunk)
    picked: list[Chunk] = []
    while len(picked) < limit and any(by_kind.values()):
        round_ = [queue.pop(0) for queue in by_kind.values() if queue]
        picked += sorted(round_, key=lambda c: (c.date, c.id), reverse=True)
    return picked[:limit]


@dataclass(frozen=True)
class NewIssue:
    path: Path
    number: int
    date: dt.date
    chunks: list[Chunk]
    lead: Chunk | None  # None: every chunk has a content warning, the subject is neutral
    window: Window


def write_next_issue(project: Project, date: dt.date, force: bool,
                     went_out: WentOutOf | None = None) -> NewIssue:
    """Propose the next issue in digests/: unsent chunks, a subject and preheader from the lead.

    Refuses a date sooner than the cadence allows after the previous issue unless `force`:
    after the day it went out when `went_out` says it did, else after its date (an issue
    not out yet is the one the next comes after).
    """
    plan = window(project, went_out)
    if plan.last is not None and date < plan.last.date:
        raise NewsletterError(
            f"{date} is {_days_from(plan.last.date, date)} issue {plan.last.number} "
            f"({plan.last.date}): issues go out in the order of their numbers",
            f"edit issue {plan.last.number} ({display_path(plan.last.path)}), or choose a date "
            f"from {plan.last.date} on")
    if plan.last is not None and plan.since is not plan.last:  # the last is not out yet
        plan = window(project)
    if plan.last is not None and date < plan.earliest and not force:
        start, what = ((plan.went_out.on, f"issue {plan.last.number} was {plan.went_out.how} "
                        f"({plan.went_out.on})") if plan.went_out else
                       (plan.last.date, f"issue {plan.last.number} ({plan.last.date})"))
        raise NewsletterError(
            f"{date} is {_days_from(start, date)} {what}; the site promises at least "
            f"{project.config.cadence.min_days} days between issues",
            f"the next issue is due from {plan.earliest} to {plan.latest}; --force overrides")
    chunks = pick_chunks(unsent_chunks(project, by=date), project.config.compose.max_chunks)
    if not chunks:
        raise NewsletterError(f"no chunk dated {date} or earlier is left unsent",
                              "write a new chunk in content/ first")
    number = (plan.last.number + 1) if plan.last else 1
    # The subject and preheader come from the lead, and an inbox list shows them before any
    # content warning: the lead is the first chunk that has none.
    lead = next((chunk for chunk in chunks if not chunk.content_warning), None)
    if lead is not None:
        chunks = [lead] + [chunk for chunk in chunks if chunk is not lead]
    path = project.root / DIGESTS_DIR / f"{number:03d}-{_slug((lead or chunks[0]).id)}.yaml"
    text = _issue_yaml(number, date, lead, chunks, project.config.name)
    try:
        create_atomic(path, text.encode("utf-8"))
    except FileExistsError:
        raise NewsletterError(f"{display_path(path)} already exists",
                              "edit it, or remove it to propose again") from None
    return NewIssue(path, number, date, chunks, lead, plan)


def _days_from(last: dt.date, date: dt.date) -> str:
    days = (date - last).days
    return f"{days} day(s) after" if days >= 0 else f"{-days} day(s) before"


def _issue_yaml(number: int, date: dt.date, lead: Chunk | None, chunks: list[Chunk],
                name: str) -> str:
    """The issue file; with no lead (every chunk has a content warning) a neutral subject."""
    quoted = json.dumps  # a JSON string is a valid double-quoted YAML scalar
    subject = _subject(lead.title) if lead else f"{name}: new reading"
    preheader = _preheader(lead.summary) if lead else (
        "New pieces from the site; each opens with a note on what it covers.")
    listed = "\n".join(f"  - id: {c.id}  # {KINDS[c.kind]}, {c.date}" for c in chunks)
    return (f"# Proposed by `send.py new`: check the subject and preheader, write the intro,\n"
            f"# reorder or drop chunks, then `send.py check`.\n"
            f"number: {number}\n"
            f"date: {date.isoformat()}\n"
            f"subject: {quoted(subject, ensure_ascii=False)}\n"
            f"preheader: {quoted(preheader, ensure_ascii=False)}\n"
            f"intro: |\n  {INTRO_PLACEHOLDER}: what this issue is about and why, in two or three "
            f"short paragraphs.\n\n  — The Mindshape team\n"
            f"chunks:\n{listed}\n")


def _subject(title: str) -> str:
    """The lead's title, cut at a word boundary to 60 characters (what phones show)."""
    title = title.split(":")[0] if len(title) > 60 and ":" in title else title
    if len(title) <= 60:
        return title
    return title[:59].rsplit(" ", 1)[0].rstrip(",;:-") + "…"


def _preheader(summary: str) -> str:
    """The lead's first sentence, at most 110 characters."""
    first = re.split(r"(?<=[.!?])\s", summary.strip(), maxsplit=1)[0]
    return first if len(first) <= 110 else first[:109].rsplit(" ", 1)[0] + "…"


def _slug(chunk_id: str) -> str:
    return "-".join(chunk_id.split("-")[:4])
