"""A CSV of subscribers (columns email, name), read row by row so a long list costs no memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import NewsletterError, Problem
from ..fields import Invalid
from ..headers import clean_display_name
from ..models import Subscriber
from .addresses import normalise_address

# A name or address is never this long; the default (128 KiB) would reject a hostile
# row with an exception instead of a reported problem.
csv.field_size_limit(1_000_000)


class SubscriberSourceError(NewsletterError):
    """The list itself cannot be read (missing file, no email column, not UTF-8)."""


@dataclass(frozen=True)
class Row:
    """One row of the list: the subscriber, or the problem that keeps it out."""

    line: int
    subscriber: Subscriber | None
    problem: Problem | None = None
    warning: Problem | None = None  # the row is used, but something in it was changed


def count_rows(path: Path) -> int:
    """Rows after the header, for a progress bar; cheap compared to reading them."""
    with _open(path) as handle:
        try:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        except (csv.Error, UnicodeDecodeError):
            return 0  # read_csv reports what is wrong, row by row


def read_csv(path: Path) -> Iterator[Row]:
    """Every data row of the CSV, with invalid addresses reported as problems, not raised."""
    with _open(path) as handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip().lower() for column in next(reader, [])]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SubscriberSourceError(f"{path}: cannot be read as CSV: {exc}",
                                        "save it as comma-separated UTF-8 text") from None
        if "email" not in header:
            raise SubscriberSourceError(
                f"{path}:1: no 'email' column (found {', '.join(header) or 'nothing'})",
                "the first line names the columns: email,name")
        email_at = header.index("email")
        name_at = header.index("name") if "name" in header else None
        while True:
            line = reader.line_num + 1  # where the row starts; a quoted field may span lines
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise SubscriberSourceError(f"{path}:{reader.line_num + 1}: is not UTF-8 text",
                                            "save the list as UTF-8 CSV") from None
            except csv.Error as exc:
                yield Row(line, None, Problem(path, line, "email",
                                                         f"row cannot be read: {exc}",
                                                         "fix or remove the row"))
                continue
            if not any(field.strip() for field in fields):
                continue
            raw = fields[email_at] if email_at < len(fields) else ""
            name = fields[name_at].strip() if name_at is not None and name_at < len(fields) else ""
            clean = clean_display_name(name)
            warning = None if clean == name else Problem(
                path, line, "name", f"had line breaks, control or direction "
                f"characters; written as {clean!r}", "fix the name in the list")
            try:
                yield Row(line, Subscriber(normalise_address(raw), clean),
                          warning=warning)
            except Invalid as exc:
                yield Row(line, None, Problem(path, line, "email", exc.message, exc.hint))


def _open(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="", errors="strict")
    except OSError as exc:
        raise SubscriberSourceError(f"{path}: cannot be read: {exc.strerror}",
                                    "check the path given to --subscribers") from None
