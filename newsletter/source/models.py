"""The pipeline's values: chunks, issues and rendered issues, all immutable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

KINDS = {
    "research-breakdown": "Research breakdown",
    "framework-deep-dive": "Framework deep-dive",
    "test-take": "An honest take on a test",
    "guide": "Guide",
    "note": "Note",
}


@dataclass(frozen=True)
class Image:
    src: str
    alt: str


@dataclass(frozen=True)
class Source:
    """A work a chunk rests on: its citation as written, and a DOI or a link to it."""

    citation: str
    doi: str | None = None  # bare, as fields.doi keeps it
    url: str | None = None

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


@dataclass(frozen=True)
class Chunk:
    """One piece of content (content/<id>.md): what a card in the email shows."""

    id: str
    path: Path
    title: str
    kind: str
    date: dt.date
    url: str
    summary: str
    tags: tuple[str, ...]
    body: str
    content_warning: str | None = None
    image: Image | None = None
    sources: tuple[Source, ...] = ()
    reviewed: dt.date | None = None  # when the piece was last checked against its sources

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class IssueEntry:
    """A chunk as placed in an issue, with the editor's optional note."""

    chunk: Chunk
    note: str | None = None


@dataclass(frozen=True)
class Issue:
    """One issue of the newsletter (digests/<id>.yaml), with its chunks resolved."""

    id: str
    path: Path
    number: int
    date: dt.date
    subject: str
    preheader: str
    intro: str
    entries: tuple[IssueEntry, ...]
    template: str = "digest"


@dataclass(frozen=True)
class Subscriber:
    """Someone on the list: a validated, normalised address and the name they gave.

    `discreet`: they asked for mail that does not say what it is about (mail/discreet.py)."""

    email: str
    name: str = ""
    discreet: bool = False
