"""A CSV of subscribers (columns email, name, and optionally discreet), read row by row so a
long list costs no memory."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import NewsletterError, Problem, display_path
from ..mail.headers import clean_display_name
from ..source.fields import Invalid
from ..source.models import Subscriber
from .addresses import normalise_address

# A name or address is never this long; the default (128 KiB) would reject a hostile
# row with an exception instead of a reported problem.
csv.field_size_limit(1_000_000)

# The `discreet` column: yes for a subscriber who asked for neutral headers (mail/discreet.py).
_YES = {"yes", "y", "true", "1", "discreet"}
_NO = {"", "no", "n", "false", "0"}


class SubscriberSourceError(NewsletterError):
    """The list itself cannot be read (missing file, no email column, not UTF-8)."""


@dataclass(frozen=True)
class Row:
    """One row of the list: the subscriber, or the problem that keeps it out."""

    line: int
    subscriber: Subscriber | None
    problem: Problem | None = None
    warning: Problem | None = None  # the row is used, but something in it was changed


def check_readable(path: Path) -> int:
    """Rows after the header, read through to the end: a list that is not UTF-8 fails here,
    naming the line, before anything is made of it (reading costs little; checking
    every address would cost a pass of its own)."""
    rows = -1  # the header
    with _open(path) as handle:
        reader = csv.reader(handle)
        while True:
            try:
                next(reader)
            except StopIteration:
                return max(rows, 0)
            except UnicodeDecodeError:
                raise SubscriberSourceError(f"{path}:{_line_of_first_bad_byte(path)}: is not "
                                            "UTF-8 text", "save the list as UTF-8 CSV") from None
            except csv.Error:
                pass  # read_csv reports the row
            rows += 1


def has_column(path: Path, name: str) -> bool:
    """Whether the CSV's first line names the column `name` (case and spaces aside)."""
    with _open(path) as handle:
        try:
            header = next(csv.reader(handle), [])
        except (UnicodeDecodeError, csv.Error):
            return True  # unreadable: read_csv reports it, and no shortcut is taken
    return name in (column.strip().lower() for column in header)


def read_csv(path: Path) -> Iterator[Row]:
    """Every data row of the CSV, with invalid addresses reported as problems, not raised."""
    with _open(path) as handle:
        reader = csv.reader(handle)
        try:
            header = [column.strip().lower() for column in next(reader, [])]
        except UnicodeDecodeError:
            raise SubscriberSourceError(f"{path}:{_line_of_first_bad_byte(path)}: is not UTF-8 "
                                        "text", "save the list as UTF-8 CSV") from None
        except csv.Error as exc:
            raise SubscriberSourceError(f"{path}: cannot be read as CSV: {exc}",
                                        "save it as comma-separated UTF-8 text") from None
        if "email" not in header:
            raise SubscriberSourceError(
                f"{path}:1: no 'email' column (found {', '.join(header) or 'nothing'})",
                "the first line names the columns: email,name")
        email_at = header.index("email")
        name_at = header.index("name") if "name" in header else None
        discreet_at = header.index("discreet") if "discreet" in header else None
        while True:
            line = reader.line_num + 1  # where the row starts; a quoted field may span lines
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                # The decoder reads ahead: the row being read is not where the byte is.
                raise SubscriberSourceError(f"{path}:{_line_of_first_bad_byte(path)}: is not "
                                            "UTF-8 text", "save the list as UTF-8 CSV") from None
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
            flag = (fields[discreet_at] if discreet_at is not None and discreet_at < len(fields)
                    else "").strip().lower()
            if flag not in _YES | _NO:
                # A guess either way could show the newsletter's name on a shared screen.
                yield Row(line, None, Problem(path, line, "discreet", f"must be yes or no, got "
                                              f"{flag!r}", "write yes (neutral headers) or no"))
                continue
            try:
                yield Row(line, Subscriber(normalise_address(raw), clean, flag in _YES),
                          warning=warning)
            except Invalid as exc:
                yield Row(line, None, Problem(path, line, "email", exc.message, exc.hint))


def _open(path: Path):
    if path.is_dir():
        raise SubscriberSourceError(f"{display_path(path)} is a folder, not a CSV file",
                                    "give --subscribers the list's file, e.g. subscribers.csv")
    try:
        return path.open(encoding="utf-8-sig", newline="", errors="strict")
    except FileNotFoundError:
        raise SubscriberSourceError(f"{display_path(path)}: no such file",
                                    "check the path given to --subscribers") from None
    except OSError as exc:
        raise SubscriberSourceError(f"{display_path(path)}: cannot be read: {exc.strerror}",
                                    "check the path given to --subscribers") from None


def _line_of_first_bad_byte(path: Path) -> int:
    """The line of the first byte that is not UTF-8, counted as an editor counts lines
    (a line ends at LF, CRLF or a lone CR; a quoted field's line breaks count too)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, last_was_cr = 1, False
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
                before = chunk
            except UnicodeDecodeError as exc:
                held = len(exc.object) - len(chunk)  # bytes kept from the last chunk
                before = chunk[:max(exc.start - held, 0)]
                return line + _line_breaks(before, last_was_cr)
            line += _line_breaks(before, last_was_cr)
            last_was_cr = before.endswith(b"\r")
    return line


def _line_breaks(data: bytes, after_cr: bool) -> int:
    """Line ends in `data`; `after_cr`: the data before it ended in CR (CR LF is one end)."""
    count = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return count - 1 if after_cr and data.startswith(b"\n") else count
