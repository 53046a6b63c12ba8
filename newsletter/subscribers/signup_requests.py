"""Signup mail -> what it asks: subscribe, unsubscribe, a bounce, an auto-reply, or not understood.

Requests are recognised by the words `send.py signup` pre-fills (newsletter.yaml): the
subject, once reply prefixes are removed, must be exactly those words (case and spacing
aside), or the writer's own text (quoted replies removed) must hold the pre-filled body.
Anything else, a forwarded request, or a subscribe subject over a text that asks to
leave, is listed for the editor instead: a wrong guess would add someone who did not
ask, or keep sending to someone who asked to stop. The subscriber is always the single
From address: a Reply-To that differs is ignored and the request flagged.

Each step is a rule registered with intake.RULES (their order is listed there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from email import policy
from email.parser import BytesParser

from ..source.config import Config
from .addresses import address_key
from .bounces import failed_recipients, is_delivery_report
from .intake import (
    ASKING,
    AUTO_REPLY,
    BOUNCE,
    MALFORMED,
    NOT_UNDERSTOOD,
    OWN,
    RULES,
    SUBSCRIBE,
    UNSUBSCRIBE,
    Request,
    SignupMail,
)
from .mailparts import (
    FORWARD,
    addresses,
    date,
    fold,
    header,
    is_auto_reply,
    message_key,
    named_addresses,
    raw_8bit,
    sender,
)

# Words that ask to leave: a subscribe subject over them is not taken as a subscribe.
LEAVING = ("unsubscribe", "remove me", "stop sending")


def classify(data: bytes, config: Config, fallback_key: str, *, now: dt.datetime,
             arrived: dt.datetime | None = None,
             earliest: dt.datetime | None = None) -> Request:
    """Read one raw message. Never raises: broken mail comes back as MALFORMED with a reason.

    `now` is the time of the import and `arrived` when the source says the message
    arrived (mbox From_ line, Maildir delivery, IMAP INTERNALDATE): a request without a
    usable Date gets that date rather than counting as the oldest (flagged). A Date far
    in the future or before `earliest` (the list cannot be older) is held (dates.py).
    """
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        subject = header(message, "Subject")
        message_id = header(message, "Message-ID").strip() or None
        when, date_flags = date(message, now, arrived)
        key = message_key(message, data, message_id)
    except Exception as exc:
        return Request(MALFORMED, fallback_key, "", None, reason=f"cannot be parsed ({exc})")
    mail = SignupMail(message, config, key, subject, when, message_id, date_flags, now=now,
                      earliest=earliest)
    try:
        return RULES.run(mail) or mail.request(NOT_UNDERSTOOD, reason="no rule read it")
    except Exception as exc:
        return mail.request(MALFORMED, reason=f"cannot be read ({type(exc).__name__}: {exc})")


def _asking(request: Request | None) -> bool:
    return request is not None and request.kind in ASKING


@RULES.add(priority=90)
def delivery_report(mail: SignupMail, request: Request | None) -> Request | None:
    if request is not None or not is_delivery_report(mail.message):
        return request
    bounced = failed_recipients(mail.message)
    if not bounced:
        return mail.request(NOT_UNDERSTOOD, reason="a delivery report with no failure")
    return mail.request(BOUNCE, bounced=bounced)


@RULES.add(priority=80)
def auto_reply(mail: SignupMail, request: Request | None) -> Request | None:
    if request is None and is_auto_reply(mail.message, mail.bare_subject):
        return mail.request(AUTO_REPLY)
    return request


@RULES.add(priority=70)
def forwarded(mail: SignupMail, request: Request | None) -> Request | None:
    if request is None and FORWARD & mail.prefixes:
        return mail.request(NOT_UNDERSTOOD,
                            reason="a forwarded message: who is asking is not clear")
    return request


@RULES.add(priority=60)
def asks(mail: SignupMail, request: Request | None) -> Request | None:
    """The signup words in the subject or the writer's own text; without them, not understood."""
    if request is not None:
        return request
    kind, reason = _asks(fold(mail.bare_subject), fold(mail.own), _words(mail.config))
    return mail.request(kind) if kind else mail.request(NOT_UNDERSTOOD, reason=reason)


@RULES.add(priority=50)
def from_sender(mail: SignupMail, request: Request | None) -> Request | None:
    if not _asking(request):
        return request
    found = sender(mail.message)
    if isinstance(found, str):
        return replace(request, kind=MALFORMED, reason=found)
    name, address = found
    flags = request.flags
    for field in ("From", "Subject"):
        _, guessed = raw_8bit(mail.message, field)
        if guessed:
            flags = (*flags, f"{field} had raw 8-bit bytes, not UTF-8: read as {guessed}")
    return replace(request, address=address, name=name, flags=flags)


@RULES.add(priority=45)
def own_address(mail: SignupMail, request: Request | None) -> Request | None:
    """Mail from the newsletter's own address (a draft sent to itself) asks nothing."""
    if not _asking(request) or request.key not in {address_key(mail.config.sender.email),
                                                   address_key(mail.config.reply_to)}:
        return request
    return replace(request, kind=OWN,
                   flags=(*request.flags, "sent from the newsletter's own address: ignored"))


@RULES.add(priority=40)
def date_flags(mail: SignupMail, request: Request | None) -> Request | None:
    if _asking(request) and mail.date_flags:
        return replace(request, flags=(*request.flags, *mail.date_flags))
    return request


@RULES.add(priority=35)
def reply_to_differs(mail: SignupMail, request: Request | None) -> Request | None:
    """The subscriber is the From address; a Reply-To naming someone else is only flagged."""
    if not _asking(request):
        return request
    reply_to = addresses(mail.message, "Reply-To")
    if reply_to and any(address_key(r) != request.key for r in reply_to):
        return replace(request, flags=(*request.flags, "reply-to differs from From: ignored"))
    return request


@RULES.add(priority=30)
def unsubscribe_names(mail: SignupMail, request: Request | None) -> Request | None:
    """An unsubscribe names the addresses in its text: an issue's link adds the reader's."""
    if request is not None and request.kind == UNSUBSCRIBE:
        return replace(request, named=named_addresses(mail.own))
    return request


@dataclass(frozen=True)
class _Words:
    subscribe: str
    unsubscribe: str
    subscribe_body: str
    unsubscribe_body: str


def _words(config: Config) -> _Words:
    signup = config.signup
    return _Words(fold(signup.subscribe_subject), fold(signup.unsubscribe_subject),
                  fold(signup.subscribe_body), fold(signup.unsubscribe_body))


def _asks(wanted: str, own: str, words: _Words) -> tuple[str | None, str]:
    """(SUBSCRIBE or UNSUBSCRIBE or None, why not) from the folded subject and own text."""
    leaving = [w for w in (words.unsubscribe_body, *LEAVING) if w and w in own]
    if wanted in (words.unsubscribe, "unsubscribe"):
        return UNSUBSCRIBE, ""
    if wanted in (words.subscribe, "subscribe"):
        if leaving:
            return None, f"the subject says subscribe but the text says {leaving[0]!r}"
        return SUBSCRIBE, ""
    # A subject the writer changed: the pre-filled body, above any quoted text, still says it.
    if words.unsubscribe_body and words.unsubscribe_body in own:
        return UNSUBSCRIBE, ""
    if words.subscribe_body and words.subscribe_body in own and not leaving:
        return SUBSCRIBE, ""
    return None, "no subscribe or unsubscribe words"
