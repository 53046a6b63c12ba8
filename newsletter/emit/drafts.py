"""The eml and bcc modes: .eml drafts in outbox/, written in ledgered batches.

eml: one draft per subscriber, To: them, with their own unsubscribe link.
bcc: drafts To: the sender with at most N subscribers in Bcc:, never in To or Cc.
Both open as ready-to-send drafts (X-Unsent: 1) in Apple Mail, Thunderbird, Outlook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from ..mail.mailto import unsubscribe_link
from ..mail.message import MessageFactory, new_boundary, new_message_id
from ..output import flush_to_disk, private_folder, write_pieces_atomic
from ..render.renderer import RenderedIssue
from ..source.config import Config
from ..source.models import Subscriber
from ..subscribers.addresses import address_key
from .ledger import Entry, Ledger

OUTBOX = "outbox"
# Subscribers recorded per ledger transaction in eml mode: large enough that the
# two commits and one sync per batch cost little, small enough that an
# interrupted batch is quick to redo.
EML_BATCH = 500


class DraftWriter:
    """Writes the drafts of one run; feed it subscribers who do not have the issue yet."""

    def __init__(self, folder: Path, config: Config, factory: MessageFactory, mode: str,
                 ledger: Ledger, batch_size: int, run: str) -> None:
        self.folder = folder
        self.outbox = str(private_folder(folder / OUTBOX))  # a str: joined with each name
        self.run = run
        self.config = config
        self.mode = mode
        self.ledger = ledger
        self.batch_size = batch_size
        self.factory = factory
        self.generic_unsubscribe = unsubscribe_link(config)
        self.waiting: list[Subscriber] = []
        self.next_bcc = _next_bcc_number(ledger.files_done("bcc"))
        self.files_written = 0
        self.emitted = 0

    def add(self, subscribers: list[Subscriber]) -> None:
        self.waiting.extend(subscribers)
        size = EML_BATCH if self.mode == "eml" else self.batch_size
        while len(self.waiting) >= size:
            self._write(self.waiting[:size])
            del self.waiting[:size]

    def close(self) -> list[str]:
        """Write what is left (the last, smaller batch); returns notes for the editor."""
        if self.waiting:
            self._write(self.waiting)
            self.waiting = []
        if not self.files_written:
            return []
        return [f"{self.files_written} draft(s) in {OUTBOX}/: open each in your mail app and "
                "send it"]

    def _write(self, subscribers: list[Subscriber]) -> None:
        files: list[tuple[str, list[bytes]]] = []
        entries: list[Entry] = []
        if self.mode == "eml":
            for subscriber in subscribers:
                name = _draft_name(subscriber)
                message_id = new_message_id(self.config)
                files.append((name, self.factory.message_pieces(
                    to=[(subscriber.name, subscriber.email)], message_id=message_id,
                    unsubscribe_url=unsubscribe_link(self.config, subscriber.email))))
                entries.append(_entry(subscriber, "eml", f"{OUTBOX}/{name}", message_id))
        else:
            name = f"bcc-{self.next_bcc:04d}.eml"
            self.next_bcc += 1
            message_id = new_message_id(self.config)
            sender = self.config.sender
            files.append((name, self.factory.message_pieces(
                to=[(sender.name, sender.email)], message_id=message_id,
                bcc=[(s.name, s.email) for s in subscribers],
                unsubscribe_url=self.generic_unsubscribe)))
            entries = [_entry(s, "bcc", f"{OUTBOX}/{name}", message_id) for s in subscribers]
        # Recorded as pending first: if the run dies before finish(), the next run
        # deletes these files and emits to these subscribers again, never twice.
        self.ledger.begin(entries, self.run)
        write_pieces_atomic(self.outbox, files)
        flush_to_disk(self.folder / OUTBOX)
        self.ledger.finish(entries)
        self.files_written += len(files)
        self.emitted += len(subscribers)


def draft_factory(config: Config, rendered: RenderedIssue, date: dt.datetime) -> MessageFactory:
    """The drafts' shared parts, made before any file is: a subject or list id that cannot
    go in a header stops the run with the output folder untouched."""
    factory = MessageFactory(config, rendered, date=date, boundary=new_boundary(), draft=True)
    sender = config.sender
    factory.message_pieces(to=[(sender.name, sender.email)], message_id=new_message_id(config),
                           unsubscribe_url=unsubscribe_link(config))
    return factory


def _entry(subscriber: Subscriber, mode: str, file: str, message_id: str) -> Entry:
    return Entry(address_key(subscriber.email), subscriber.email, mode, file, message_id)


def _draft_name(subscriber: Subscriber) -> str:
    """A stable file name per subscriber that does not spell out the address."""
    digest = hashlib.sha256(address_key(subscriber.email).encode("utf-8")).hexdigest()
    return f"{digest[:16]}.eml"


def _next_bcc_number(files: list[str]) -> int:
    numbers = [int(m.group(1)) for f in files if (m := re.search(r"bcc-(\d+)\.eml$", f))]
    return max(numbers, default=0) + 1
