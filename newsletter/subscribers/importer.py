"""`subscribers import`: signup mail -> the store, in one transaction, idempotent."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from .imap import PASSWORD_VARIABLE, fetch_new, parse_imap_url
from .mailbox import RawMessage, SourceError, local_messages
from .requests import (
    AUTO_REPLY,
    BOUNCE,
    MALFORMED,
    NOT_UNDERSTOOD,
    SUBSCRIBE,
    UNSUBSCRIBE,
    classify,
)
from .store import SubscriberStore


@dataclass
class ImportSummary:
    new: int = 0
    resubscribed: int = 0
    unsubscribed: int = 0
    bouncing: int = 0
    unchanged: int = 0
    suppressed: int = 0
    auto_replies: int = 0
    already_read: int = 0
    read: int = 0
    not_understood: list[tuple[str, str, str]] = field(default_factory=list)  # where, subject, date
    malformed: list[tuple[str, str]] = field(default_factory=list)          # where, reason
    flagged: list[tuple[str, str]] = field(default_factory=list)            # address, flag


def import_messages(store: SubscriberStore, messages: Iterator[RawMessage],
                    config: Config) -> ImportSummary:
    """Read every message not read before and apply what it asks. The caller holds a transaction."""
    summary = ImportSummary()
    for raw in messages:
        request = classify(raw.data, config, raw.digest_key)
        if store.is_processed(request.message_key):
            summary.already_read += 1
            continue
        summary.read += 1
        store.mark_processed(request.message_key, request.kind)
        if request.kind == MALFORMED:
            summary.malformed.append((raw.where, request.reason))
        elif request.kind == NOT_UNDERSTOOD:
            summary.not_understood.append((raw.where, request.subject or "(no subject)",
                                           _shown_date(request.date)))
        elif request.kind == AUTO_REPLY:
            summary.auto_replies += 1
        elif request.kind in (SUBSCRIBE, UNSUBSCRIBE):
            outcome = store.apply(kind=request.kind, address=request.address, name=request.name,
                                  date=request.date, message_id=request.message_id,
                                  subject=request.subject, flags=request.flags)
            _count(summary, outcome)
            summary.flagged += [(request.address, flag) for flag in request.flags]
        elif request.kind == BOUNCE:
            for address in request.bounced:
                _count(summary, store.apply(kind="bounce", address=address, name="",
                                            date=request.date, message_id=request.message_id,
                                            subject=request.subject))
    return summary


def import_local(store: SubscriberStore, path: Path, config: Config) -> ImportSummary:
    """An mbox file, a Maildir or a folder of .eml files, as one transaction."""
    messages = local_messages(path)
    with store.transaction():
        return import_messages(store, messages, config)


def _count(summary: ImportSummary, outcome: str) -> None:
    """Add one to the summary's counter named like the store's outcome ('new', 'bouncing'...)."""
    setattr(summary, outcome, getattr(summary, outcome) + 1)


def _shown_date(date: dt.datetime | None) -> str:
    return date.strftime("%Y-%m-%d %H:%M") if date else "no date"


def import_imap(store: SubscriberStore, url: str, config: Config, *,
                password: str | None, ssl_context=None) -> ImportSummary:
    """Messages new since the last import of this mailbox (by UIDVALIDITY and UID)."""
    source = parse_imap_url(url)
    if not password:
        raise SourceError(f"no password for {source.label()}",
                          f"set the {PASSWORD_VARIABLE} environment variable; it is never "
                          "read from a file or the command line")
    known_validity, last_uid = store.sync_state(source.label())
    # A changed UIDVALIDITY means the server renumbered the mailbox: fetch_new then
    # returns every message, and those read before are skipped by their Message-ID.
    validity, fetched = fetch_new(source, password, uidvalidity=known_validity,
                                  last_uid=last_uid, ssl_context=ssl_context)
    highest = last_uid if known_validity == validity else 0
    with contextlib.closing(fetched), store.transaction():

        def messages() -> Iterator[RawMessage]:
            nonlocal highest
            for message in fetched:
                highest = max(highest, message.uid)
                yield RawMessage(f"UID {message.uid}", message.data)

        summary = import_messages(store, messages(), config)
        store.set_sync_state(source.label(), validity, highest)
    return summary
