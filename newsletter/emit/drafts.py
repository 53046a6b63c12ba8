"""The eml and bcc modes: .eml drafts in outbox/, written in ledgered batches.

eml: one draft per subscriber, To: them, with their own unsubscribe link.
bcc: drafts To: the sender with at most N subscribers in Bcc:, never in To or Cc; discreet
subscribers (mail/discreet.py) are batched apart from the others, in bcc-NNNN-discreet.eml.
Each subscriber gets the version they asked for: the usual one, or the discreet one.
Both open as ready-to-send drafts (X-Unsent: 1) in Apple Mail, Thunderbird, Outlook.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from ..mail.mailto import unsubscribe_link
from ..mail.message import MessageFactories, new_boundary, new_message_id
from ..output import flush_to_disk, private_folder, write_pieces_atomic
from ..source.models import Subscriber
from ..subscribers.addresses import address_key
from .context import BaseMode, EmitContext, IssueContext
from .ledger import Entry

OUTBOX = "outbox"
# Subscribers recorded per ledger transaction in eml mode: large enough that the
# two commits and one sync per batch cost little, small enough that an
# interrupted batch is quick to redo.
EML_BATCH = 500

Files = list[tuple[str, list[bytes]]]

# Measured with each app's Send captured on a local sink (NOTES-email-stack.md, Dec 2026).
MAIL_APPS_NOTE = (
    "Mail apps change a draft when they send it: Thunderbird drops List-Unsubscribe and "
    "List-Id, replaces the text part with its own and strips the dark-mode and phone styles; "
    "Mutt sends the text part only; Claws Mail re-wraps the text and attaches the HTML as a "
    "file. `--mode smtp` delivers the email as built.")


class _DraftMode(BaseMode):
    """Writes the drafts of one run; feed it subscribers who do not have the issue yet."""

    folders: ClassVar[tuple[str, ...]] = (OUTBOX,)
    versions: ClassVar[bool] = True  # each draft is of its subscribers' version

    def __init__(self, context: EmitContext) -> None:
        super().__init__(context)
        self.folder, self.config, self.ledger = context.folder, context.config, context.ledger
        self.outbox = str(private_folder(self.folder / OUTBOX))  # a str: joined with each name
        self.factory: MessageFactories = context.prepared
        self.waiting: list[Subscriber] = []
        self.files_written = 0

    @classmethod
    def prepare(cls, issue: IssueContext) -> MessageFactories:
        """The drafts' shared parts, of each version, made before any file is: a subject or
        list id that cannot go in a header stops the run with the output folder untouched."""
        config = issue.config
        factory = issue.factories(boundary=new_boundary(), draft=True)
        sender = config.sender
        factory.message_pieces(to=[(sender.name, sender.email)],
                               message_id=new_message_id(config),
                               unsubscribe_url=unsubscribe_link(config))
        return factory

    def batch(self) -> int:
        """Subscribers per ledger batch."""
        raise NotImplementedError

    def drafts(self, subscribers: list[Subscriber]) -> tuple[Files, list[Entry]]:
        """One batch's files and the ledger entries that say who is in which."""
        raise NotImplementedError

    def add(self, subscribers: list[Subscriber]) -> None:
        self.waiting.extend(subscribers)
        size = self.batch()
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
                "send it", MAIL_APPS_NOTE]

    def _write(self, subscribers: list[Subscriber]) -> None:
        files, entries = self.drafts(subscribers)
        # Recorded as pending first: if the run dies before finish(), the next run
        # deletes these files and emits to these subscribers again, never twice.
        self.ledger.begin(entries, self.context.run)
        write_pieces_atomic(self.outbox, files)
        flush_to_disk(self.folder / OUTBOX)
        self.ledger.finish(entries)
        self.files_written += len(files)
        self.emitted += len(subscribers)

    def _entry(self, subscriber: Subscriber, name: str, message_id: str) -> Entry:
        return Entry(address_key(subscriber.email), subscriber.email, self.name,
                     f"{OUTBOX}/{name}", message_id)


class EmlMode(_DraftMode):
    name = "eml"
    help = "a draft per subscriber"

    def batch(self) -> int:
        return EML_BATCH

    def drafts(self, subscribers: list[Subscriber]) -> tuple[Files, list[Entry]]:
        files: Files = []
        entries: list[Entry] = []
        for subscriber in subscribers:
            name = _draft_name(subscriber)
            message_id = new_message_id(self.config)
            files.append((name, self.factory.of(subscriber).message_pieces(
                to=[(subscriber.name, subscriber.email)], message_id=message_id,
                unsubscribe_url=unsubscribe_link(self.config, subscriber.email))))
            entries.append(self._entry(subscriber, name, message_id))
        return files, entries


class BccMode(_DraftMode):
    name = "bcc"
    help = "drafts with up to N subscribers in Bcc"

    def __init__(self, context: EmitContext) -> None:
        super().__init__(context)
        self.generic_unsubscribe = unsubscribe_link(self.config)
        self.next_bcc = _next_bcc_number(self.ledger.files_done(self.name))
        self.discreet_waiting: list[Subscriber] = []

    def batch(self) -> int:
        return self.context.batch_size

    def add(self, subscribers: list[Subscriber]) -> None:
        """Discreet subscribers wait in a queue of their own: a Bcc draft is one version,
        so the two never share one."""
        super().add([s for s in subscribers if not s.discreet])
        self.discreet_waiting.extend(s for s in subscribers if s.discreet)
        size = self.batch()
        while len(self.discreet_waiting) >= size:
            self._write(self.discreet_waiting[:size])
            del self.discreet_waiting[:size]

    def close(self) -> list[str]:
        if self.waiting:  # the usual version's last batch first, as the numbers went so far
            self._write(self.waiting)
            self.waiting = []
        if self.discreet_waiting:
            self._write(self.discreet_waiting)
            self.discreet_waiting = []
        return super().close()

    def drafts(self, subscribers: list[Subscriber]) -> tuple[Files, list[Entry]]:
        discreet = subscribers[0].discreet
        assert all(s.discreet == discreet for s in subscribers), "a Bcc draft is one version"
        name = f"bcc-{self.next_bcc:04d}{'-discreet' if discreet else ''}.eml"
        self.next_bcc += 1
        message_id = new_message_id(self.config)
        factory = self.factory.variant(discreet)
        # To: the sender, under the version's own name (the discreet one's is neutral).
        files = [(name, factory.message_pieces(
            to=[factory.sender], message_id=message_id,
            bcc=[(s.name, s.email) for s in subscribers],
            unsubscribe_url=self.generic_unsubscribe))]
        return files, [self._entry(s, name, message_id) for s in subscribers]


def _draft_name(subscriber: Subscriber) -> str:
    """A stable file name per subscriber that does not spell out the address."""
    digest = hashlib.sha256(address_key(subscriber.email).encode("utf-8")).hexdigest()
    return f"{digest[:16]}.eml"


def _next_bcc_number(files: list[str]) -> int:
    numbers = [int(m.group(1)) for f in files
               if (m := re.search(r"bcc-(\d+)(?:-discreet)?\.eml$", f))]
    return max(numbers, default=0) + 1
