"""The review queue: messages neither applied nor ignored wait in the store for the editor.

A not-understood message, a request held for its authentication, its date or the
addresses it names: each is kept (with where it was read, its proof and the first lines
of the writer's text) until `subscribers accept ID --as subscribe|unsubscribe|...` applies it
(the message is the consent proof) or `subscribers dismiss ID` drops it. The message is
also marked read, and the queue is keyed by the message, so importing again never adds
it twice; a kill mid-import loses nothing, the queue being written in the import's
transaction. Rules hold a request with `hold()`; the last rule here turns whatever is
still not understood into a held one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .. import clock
from ..errors import NewsletterError
from .addresses import address_key
from .intake import (
    ASKING,
    DISCREET_SUBSCRIBE,
    HANDLERS,
    NOT_UNDERSTOOD,
    REVIEW,
    RULES,
    SUBSCRIBE,
    SWITCH,
    UNSUBSCRIBE,
    ImportSummary,
    Request,
    SignupMail,
)
from .mailparts import sender
from .mailsource import RawMessage
from .store import SUBSCRIBED, SubscriberStore

EXCERPT_LINES = 3
EXCERPT_WIDTH = 100
UNTRUSTED_DATE = "Date "  # a reason that starts so (dates.py): accept dates it by the decision


def hold(request: Request, reason: str) -> Request:
    """`request` held for the editor, with why; what it asked is kept for `accept`."""
    wanted = request.kind if request.kind in ASKING else request.wanted
    if wanted == SUBSCRIBE and request.discreet:
        wanted = DISCREET_SUBSCRIBE
    return replace(request, kind=REVIEW, reason=reason, wanted=wanted)


@RULES.add(priority=5)
def held_for_the_editor(mail: SignupMail, request: Request | None) -> Request | None:
    """Last: anything not understood waits; every held request gets its sender and excerpt."""
    if request is not None and request.kind == NOT_UNDERSTOOD:
        request = hold(request, request.reason)
    if request is not None and request.kind == UNSUBSCRIBE and request.named:
        return replace(request, excerpt=excerpt(mail.own))  # the handler may hold it
    if request is None or request.kind != REVIEW:
        return request
    if request.address is None:
        found = sender(mail.message)
        if not isinstance(found, str):
            request = replace(request, name=found[0], address=found[1])
    return replace(request, excerpt=excerpt(mail.own))


def excerpt(own: str) -> str:
    lines = [line.strip() for line in own.splitlines() if line.strip()]
    return "\n".join(line[:EXCERPT_WIDTH] for line in lines[:EXCERPT_LINES])


@HANDLERS.add(REVIEW)
def queue_for_review(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
                     request: Request) -> None:
    if store.read_before_forget(request.message_key):
        summary.counts["suppressed"] += 1  # its sender was forgotten: never shown again
        return
    trusted = not request.reason.startswith(UNTRUSTED_DATE)
    when = request.date.astimezone(dt.UTC).isoformat() if request.date else None
    store.db.execute(
        "INSERT OR IGNORE INTO queue (message_key, address_key, address, name, wanted, "
        "message_id, date, date_trusted, subject, reason, excerpt, named, source, queued_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (request.message_key, request.key, request.address, request.name, request.wanted,
         request.message_id, when, int(trusted), request.subject, request.reason,
         request.excerpt, "\n".join(request.named), raw.where, clock.now().isoformat()))
    row = store.db.execute("SELECT id FROM queue WHERE message_key = ?",
                           (request.message_key,)).fetchone()
    summary.counts["held_requests" if request.wanted else "held_not_understood"] += 1
    summary.held.append((row[0], raw.where, request.subject or "(no subject)",
                         shown_date(request.date), request.reason))


@dataclass(frozen=True)
class Held:
    id: int
    address: str | None
    name: str
    wanted: str
    message_id: str | None
    date: str | None
    date_trusted: bool
    subject: str
    reason: str
    excerpt: str
    source: str
    message_key: str
    named: str


_COLUMNS = ("id, address, name, wanted, message_id, date, date_trusted, subject, reason, "
            "excerpt, source, message_key, named")


def pending(store: SubscriberStore) -> list[Held]:
    """What waits, oldest first."""
    rows = store.db.execute(f"SELECT {_COLUMNS} FROM queue ORDER BY id")
    return [Held(*row[:6], bool(row[6]), *row[7:]) for row in rows]


def count(store: SubscriberStore) -> int:
    return store.db.execute("SELECT count(*) FROM queue").fetchone()[0]


def _take(store: SubscriberStore, held_id: int) -> Held:
    found = [h for h in pending(store) if h.id == held_id]
    if not found:
        raise NewsletterError(f"nothing waits for review as #{held_id}",
                              "`send.py subscribers pending` lists what waits, with its id")
    return found[0]


def accept(store: SubscriberStore, held_id: int, kind: str,
           address: str | None = None) -> tuple[Held, str, str]:
    """Apply message #held_id as a `kind` request of its sender, or of an address its text
    names (`address`); (it, the store's outcome, the address it was applied to)."""
    with store.transaction():
        held = _take(store, held_id)
        candidates = [a for a in (held.address, *held.named.split("\n")) if a]
        if address is not None and address_key(address) not in map(address_key, candidates):
            raise NewsletterError(f"#{held_id} is from {held.address or 'no usable From'} and "
                                  f"does not name {address}",
                                  "--for takes the sender or an address the message names")
        target = address or held.address
        if target is None:
            raise NewsletterError(f"#{held_id} has no usable From address: there is no one to "
                                  f"{kind}", f"dismiss it: send.py subscribers dismiss {held_id}")
        # A message that asked for the discreet version keeps it when accepted as a subscribe.
        discreet = kind == DISCREET_SUBSCRIBE or (kind == SUBSCRIBE
                                                  and held.wanted == DISCREET_SUBSCRIBE)
        if kind == SWITCH and getattr(store.record(target), "status", None) != SUBSCRIBED:
            raise NewsletterError(f"{target} is not subscribed: there is nothing to switch",
                                  f"accept their subscribe first, or dismiss it: send.py "
                                  f"subscribers dismiss {held_id}")
        now = clock.now()
        date = dt.datetime.fromisoformat(held.date) if held.date else None
        if not held.date_trusted or date is None or date > now:
            date = now  # its Date says nothing true: the editor's decision dates it
        name = held.name if target == held.address else ""
        outcome = store.apply(kind=SUBSCRIBE if discreet else kind, address=target, name=name,
                              date=date, message_id=held.message_id, subject=held.subject,
                              flags=(f"accepted by the editor as {kind}: {held.reason}",),
                              message_key=held.message_key, discreet=discreet)
        store.db.execute("DELETE FROM queue WHERE id = ?", (held_id,))
    return held, outcome, target


def dismiss(store: SubscriberStore, held_id: int) -> Held:
    """Drop message #held_id: it stays read, so importing it again does not bring it back."""
    with store.transaction():
        held = _take(store, held_id)
        store.db.execute("DELETE FROM queue WHERE id = ?", (held_id,))
    return held


def for_address(store: SubscriberStore, address: str) -> list[int]:
    return [row[0] for row in store.db.execute("SELECT id FROM queue WHERE address_key = ?",
                                               (address_key(address),))]


def shown_date(date: dt.datetime | None) -> str:
    return date.strftime("%Y-%m-%d %H:%M") if date else "no date"
