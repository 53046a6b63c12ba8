"""`subscribers import`: signup mail -> the store, in one transaction, idempotent."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from .. import clock
from ..source.config import Config
from . import handlers, intake_addons  # noqa: F401 - importing registers their handlers
from .dates import earliest
from .imap import PASSWORD_VARIABLE, fetch_new, parse_imap_url
from .intake import HANDLERS, ImportSummary
from .mailsource import RawMessage, SourceError, local_messages
from .signup_requests import classify
from .store import SubscriberStore


def import_messages(store: SubscriberStore, messages: Iterator[RawMessage], config: Config,
                    now: dt.datetime | None = None) -> ImportSummary:
    """Read every message not read before and apply what it asks. The caller holds a transaction."""
    now = now or _now()
    oldest = earliest(config)
    summary = ImportSummary()
    for raw in messages:
        request = classify(raw.data, config, raw.digest_key, now=now, arrived=raw.arrived,
                           earliest=oldest)
        state = store.processed_state(request.message_key)
        if state == "read":
            summary.counts["already_read"] += 1
            continue
        if state == "reused":
            summary.flagged.append((raw.where, f"Message-ID {request.message_id} was used "
                                    "before by a different message: read as a new one"))
        summary.counts["read"] += 1
        store.mark_processed(request.message_key, request.kind)
        HANDLERS[request.kind](store, summary, raw, request)
    return summary


def import_local(store: SubscriberStore, path: Path, config: Config) -> ImportSummary:
    """An mbox file, a Maildir or a folder of .eml files, as one transaction."""
    messages = local_messages(path)
    with store.transaction():
        return import_messages(store, messages, config)


def _now() -> dt.datetime:
    """The time of the import: the date of a request without one; a day past it is the future."""
    return clock.now()


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
