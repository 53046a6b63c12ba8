"""What each kind of request does to the store and to the import's summary.

Registered with intake.HANDLERS, one per kind; the importer only looks the kind up.
"""

from __future__ import annotations

from .addresses import address_key
from .intake import (
    AUTO_REPLY,
    BOUNCE,
    HANDLERS,
    MALFORMED,
    NOT_UNDERSTOOD,
    OWN,
    SUBSCRIBE,
    SWITCH,
    UNSUBSCRIBE,
    ImportSummary,
    Request,
)
from .mailsource import RawMessage
from .queue import hold, queue_for_review, shown_date
from .store import SUBSCRIBED, SubscriberStore


@HANDLERS.add(MALFORMED)
def malformed(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
              request: Request) -> None:
    summary.malformed.append((raw.where, request.reason))


@HANDLERS.add(NOT_UNDERSTOOD)
def not_understood(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
                   request: Request) -> None:
    list_for_the_editor(summary, raw, request, request.reason)


@HANDLERS.add(AUTO_REPLY)
def auto_reply(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
               request: Request) -> None:
    summary.counts["auto_replies"] += 1


@HANDLERS.add(OWN)
def own(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
        request: Request) -> None:
    summary.flagged += [(request.address, flag) for flag in request.flags]


@HANDLERS.add(SUBSCRIBE, UNSUBSCRIBE)
def subscribe_or_unsubscribe(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
                             request: Request) -> None:
    """Apply a subscribe or unsubscribe; an unsubscribe naming another stored address
    (an issue's unsubscribe link adds the reader's address to the body) is for that one."""
    targets = [(request.address, request.name, request.flags)]
    if request.kind == UNSUBSCRIBE:
        others = [a for a in request.named
                  if address_key(a) != request.key and store.record(a) is not None]
        sender = store.record(request.address)
        if others and (sender is None or sender.status != SUBSCRIBED):
            queue_for_review(store, summary, raw, hold(
                request, f"an unsubscribe for {', '.join(others)} from {request.address}, "
                         "who is not subscribed"))
            return
        if others:
            targets = [(a, "", (*request.flags, f"unsubscribe for {a} sent from "
                                                f"{request.address}")) for a in others]
    for address, name, flags in targets:
        outcome = store.apply(kind=request.kind, address=address, name=name, date=request.date,
                              message_id=request.message_id, subject=request.subject,
                              flags=flags, message_key=request.message_key,
                              discreet=request.discreet)
        summary.counts[outcome] += 1
        if request.discreet and outcome in ("new", "resubscribed"):
            summary.counts["discreet"] += 1
        summary.flagged += [(address, flag) for flag in flags]


@HANDLERS.add(SWITCH)
def switch(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
           request: Request) -> None:
    """Flip the discreet preference of a subscriber. A switch from anyone not subscribed
    switches nothing and subscribes no one: it waits for the editor (who may accept it once
    they are subscribed), as does every message neither applied nor ignored."""
    if store.is_forgotten(request.address):
        summary.counts["suppressed"] += 1
        return
    record = store.record(request.address)
    if record is None or record.status != SUBSCRIBED:
        said = "is not in the store" if record is None else f"is {record.status}"
        queue_for_review(store, summary, raw, hold(
            request, f"a switch between the discreet and the usual version from "
                     f"{request.address}, who {said}: nothing was switched"))
        return
    outcome = store.apply(kind=SWITCH, address=request.address, name=request.name,
                          date=request.date, message_id=request.message_id,
                          subject=request.subject, flags=request.flags,
                          message_key=request.message_key)
    summary.counts[outcome] += 1
    summary.flagged += [(request.address, flag) for flag in request.flags]


@HANDLERS.add(BOUNCE)
def bounce(store: SubscriberStore, summary: ImportSummary, raw: RawMessage,
           request: Request) -> None:
    """A bounce says something only about an address we have: any other is news to the
    editor (a typo in a list, mail to someone never subscribed)."""
    unknown = [a for a in request.bounced if store.record(a) is None]
    for address in request.bounced:
        if address not in unknown:
            summary.counts[store.apply(kind="bounce", address=address, name="",
                                       date=request.date, message_id=request.message_id,
                                       subject=request.subject)] += 1
    if unknown:
        list_for_the_editor(summary, raw, request, "a bounce for an address not in the "
                            "store: " + ", ".join(unknown))


def list_for_the_editor(summary: ImportSummary, raw: RawMessage, request: Request,
                        reason: str) -> None:
    """Not understood: listed with where it is, its subject and date, and why."""
    summary.not_understood.append((raw.where, request.subject or "(no subject)",
                                   shown_date(request.date), reason))
