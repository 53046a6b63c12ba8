"""The signup mail as raw messages, oldest first: an mbox file, a Maildir, a folder of .eml."""

from __future__ import annotations

import datetime as dt
import hashlib
import mailbox
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import NewsletterError, display_path


class SourceError(NewsletterError):
    """The mailbox named cannot be read."""


@dataclass(frozen=True)
class RawMessage:
    where: str      # for messages to the editor: "signups.mbox #12", "cur/1700000000.x", ...
    data: bytes
    arrived: dt.datetime | None = None  # when the source says it arrived, if it says

    @property
    def digest_key(self) -> str:
        """Stands in for a key when the message cannot even be parsed."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


def local_messages(path: Path) -> Iterator[RawMessage]:
    """Messages of a local mailbox, oldest first, whatever its format."""
    if path.is_file():
        with path.open("rb") as file:
            mbox = file.read(5) == b"From "
        yield from (_mbox(path) if mbox else _single(path))
    elif (path / "cur").is_dir() or (path / "new").is_dir():
        yield from _maildir(path)
    elif path.is_dir():
        yield from _eml_folder(path)
    else:
        raise SourceError(f"{display_path(path)} does not exist",
                          "give an mbox file, a Maildir, a folder of .eml files, or "
                          "imaps://user@host/FOLDER")


def _single(path: Path) -> Iterator[RawMessage]:
    """A file that does not start with an mbox "From " line: one message (.eml)."""
    yield RawMessage(path.name, path.read_bytes())


def _mbox(path: Path) -> Iterator[RawMessage]:
    try:
        box = mailbox.mbox(path, create=False)
        keys = box.keys()  # in file order, which is arrival order
    except (OSError, mailbox.Error) as exc:
        raise SourceError(f"{display_path(path)} cannot be read as an mbox file: {exc}",
                          "export the signup mailbox as mbox, or give a Maildir") from None
    try:
        for number, key in enumerate(keys, 1):
            data = box.get_bytes(key)
            arrived = _from_line_date(box.get_message(key).get_from())
            yield RawMessage(f"{path.name} #{number}", data, arrived)
    finally:
        box.close()


def _from_line_date(from_line: str) -> dt.datetime | None:
    """The date of an mbox "From sender Sat Nov  7 09:00:00 2026" line (UTC, by convention)."""
    parts = from_line.split()
    if len(parts) < 6:
        return None
    try:
        parsed = time.strptime(" ".join(parts[-5:]), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return dt.datetime(*parsed[:6], tzinfo=dt.UTC)


def _maildir(path: Path) -> Iterator[RawMessage]:
    """new/ and cur/, whichever exist; read directly so a Maildir is never modified."""
    entries = []
    for subdir in ("new", "cur"):
        folder = path / subdir
        if not folder.is_dir():
            continue
        for file in folder.iterdir():
            if file.name.startswith(".") or not file.is_file():
                continue
            # The delivery time starts the name ("1700000000.M1P2.host"), else the mtime.
            stamp = file.name.split(".", 1)[0]
            seconds = float(stamp) if stamp.isdigit() else file.stat().st_mtime
            entries.append((seconds, subdir, file.name, file))
    for seconds, subdir, name, file in sorted(entries):
        yield RawMessage(f"{subdir}/{name}", file.read_bytes(),
                         dt.datetime.fromtimestamp(seconds, dt.UTC))


def _eml_folder(path: Path) -> Iterator[RawMessage]:
    files = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".eml"),
                   key=lambda p: (p.stat().st_mtime, p.name))
    if not files:
        raise SourceError(f"{display_path(path)} has no .eml files",
                          "give an mbox file, a Maildir, or a folder of .eml files")
    for file in files:
        # A file's time says when it was saved or copied, not when it arrived: unused.
        yield RawMessage(file.name, file.read_bytes())
