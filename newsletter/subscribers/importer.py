"""`subscribers import`: signup mail -> the store, in one transaction, idempotent."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import clock
from ..source.config import Config
from .addresses import address_key
from .imap import PASSWORD_VARIABLE, fetch_new, parse_imap_url
from .mailsource import RawMessage, SourceError, local_messages
from .signup_requests import (
    AUTO_REPLY,
    BOUNCE,
    MALFORMED,
    NOT_UNDERSTOOD,
    OWN,
    SUBSCRIBE,
    UNSUBSCRIBE,
    Request,
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
    # where, subject, date, why
    not_understood: list[tuple[str, str, str, str]] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)          # where, reason
    flagged: list[tuple[str, str]] = field(default_factory=list)            # address, flag


def import_messages(store: SubscriberStore, messages: Iterator[RawMessage], config: Config,
                    now: dt.datetime | None = None) -> ImportSummary:
    """Read every message not read before and apply what it asks. The caller holds a transaction."""
    now = now or _now()
    summary = ImportSummary()
    for raw in messages:
        request = classify(raw.data, config, raw.digest_key, now=now, arrived=raw.arrived)
        state = store.processed_state(request.message_key)
        if state == "read":
            summary.already_read += 1
            continue
        if state == "reused":
            summary.flagged.append((raw.where, f"Message-ID {request.message_id} was used "
                                    "before by a different message: read as a new one"))
        summary.read += 1
        store.mark_processed(request.message_key, request.kind)
        if request.kind == MALFORMED:
            summary.malformed.append((raw.where, request.reason))
        elif request.kind == NOT_UNDERSTOOD:
            _not_understood(summary, raw, request, request.reason)
        elif request.kind == AUTO_REPLY:
            summary.auto_replies += 1
        elif request.kind == OWN:
            summary.flagged += [(request.address, flag) for flag in request.flags]
        elif request.kind in (SUBSCRIBE, UNSUBSCRIBE):
            _apply_request(store, summary, request)
        elif request.kind == BOUNCE:
            # A bounce says something only about an address we have: any other is news
            # to the editor (a typo in a list, mail to someone never subscribed).
            unknown = [a for a in request.bounced if store.record(a) is None]
            for address in request.bounced:
                if address not in unknown:
                    _count(summary, store.apply(kind="bounce", address=address, name="",
                                                date=request.date, message_id=request.message_id,
                                                subject=request.subject))
            if unknown:
                _not_understood(summary, raw, request, "a bounce for an address not in the "
                                "store: " + ", ".join(unknown))
    return summary


def _apply_request(store: SubscriberStore, summary: ImportSummary, request: Request) -> None:
    """Apply a subscribe or unsubscribe; an unsubscribe naming another stored address
    (an issue's unsubscribe link adds the reader's address to the body) is for that one."""
    targets = [(request.address, request.name, request.flags)]
    if request.kind == UNSUBSCRIBE:
        others = [a for a in request.named
                  if address_key(a) != request.key and store.record(a) is not None]
        if others:
            targets = [(a, "", (*request.flags, f"unsubscribe for {a} sent from "
                                                f"{request.address}")) for a in others]
    for address, name, flags in targets:
        outcome = store.apply(kind=request.kind, address=address, name=name, date=request.date,
                              message_id=request.message_id, subject=request.subject,
                              flags=flags)
        _count(summary, outcome)
        summary.flagged += [(address, flag) for flag in flags]


def _not_understood(summary: ImportSummary, raw: RawMessage, request: Request,
                    reason: str) -> None:
    summary.not_understood.append((raw.where, request.subject or "(no subject)",
                                   _shown_date(request.date), reason))


def import_local(store: SubscriberStore, path: Path, config: Config) -> ImportSummary:
    """An mbox file, a Maildir or a folder of .eml files, as one transaction."""
    messages = local_messages(path)
    with store.transaction():
        return import_messages(store, messages, config)


def _now() -> dt.datetime:
    """The time of the import: the date of a request without one, the cap of a future one."""
    return clock.now()


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
                yield RawMessage(f"UID {message.uid}", message.data, message.arrived)

        summary = import_messages(store, messages(), config)
        store.set_sync_state(source.label(), validity, highest)
    return summary
