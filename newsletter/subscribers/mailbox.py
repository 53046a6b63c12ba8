"""The signup mail as raw messages, oldest first: an mbox file, a Maildir, a folder of .eml."""

from __future__ import annotations

import hashlib
import mailbox
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

    @property
    def digest_key(self) -> str:
        """Stands in for a missing Message-ID: the same bytes read twice are the same message."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


def local_messages(path: Path) -> Iterator[RawMessage]:
    """Messages of a local mailbox, oldest first, whatever its format."""
    if path.is_file():
        yield from _mbox(path)
    elif (path / "cur").is_dir() or (path / "new").is_dir():
        yield from _maildir(path)
    elif path.is_dir():
        yield from _eml_folder(path)
    else:
        raise SourceError(f"{display_path(path)} does not exist",
                          "give an mbox file, a Maildir, a folder of .eml files, or "
                          "imaps://user@host/FOLDER")


def _mbox(path: Path) -> Iterator[RawMessage]:
    try:
        box = mailbox.mbox(path, create=False)
        keys = box.keys()  # in file order, which is arrival order
    except (OSError, mailbox.Error) as exc:
        raise SourceError(f"{display_path(path)} cannot be read as an mbox file: {exc}",
                          "export the signup mailbox as mbox, or give a Maildir") from None
    try:
        for number, key in enumerate(keys, 1):
            yield RawMessage(f"{path.name} #{number}", box.get_bytes(key))
    finally:
        box.close()


def _maildir(path: Path) -> Iterator[RawMessage]:
    box = mailbox.Maildir(path, factory=None, create=False)
    # Maildir has no order of its own; delivery time (in the name, else mtime) gives it.
    entries = []
    for key in box.iterkeys():
        message = box.get_message(key)
        entries.append((message.get_date(), key, message.get_subdir()))
    for _, key, subdir in sorted(entries):
        yield RawMessage(f"{subdir}/{key}", box.get_bytes(key))


def _eml_folder(path: Path) -> Iterator[RawMessage]:
    files = sorted((p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".eml"),
                   key=lambda p: (p.stat().st_mtime, p.name))
    if not files:
        raise SourceError(f"{display_path(path)} has no .eml files",
                          "give an mbox file, a Maildir, or a folder of .eml files")
    for file in files:
        yield RawMessage(file.name, file.read_bytes())
