"""RenderedIssue + recipients -> the bytes of each email, encoded once and spliced per message.

Everything the messages of an issue share (headers, both parts, quoted-printable
encoding) is prepared once; a message adds only its recipients, Message-ID and
unsubscribe link. Given the date, boundary and Message-ID, output is deterministic.
"""

from __future__ import annotations

import binascii
import datetime as dt
import html as html_lib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any

from .. import clock
from ..errors import RenderError
from ..render.renderer import UNSUBSCRIBE_SLOT, RenderedIssue
from ..source.config import Config
from ..source.models import Subscriber
from . import qp
from .headers import (
    address_header,
    phrase_header,
    raw_header,
    unstructured_header,
    url_list_header,
)
from .mailto import unsubscribe_link_start
from .unsubscribe_settings import POST_VALUE, one_click_link, one_click_url

Mailbox = tuple[str, str]  # (display name, address)


@dataclass(frozen=True)
class Envelope:
    """What differs between two builds of the same issue. Fixed values give golden output."""

    to: str
    date: dt.datetime
    message_id: str
    boundary: str


def new_message_id(config: Config) -> str:
    # 128 random bits as uuid4 gave (less its 6 fixed ones), at a third of its cost.
    return f"<{secrets.token_hex(16)}@{config.sender.domain}>"


def new_boundary() -> str:
    # "=_" cannot occur in quoted-printable text, so the boundary never collides with a body.
    return f"=_{uuid.uuid4().hex}"


def now() -> dt.datetime:
    return clock.local_now()


def new_envelope(config: Config, to: str) -> Envelope:
    """A fresh envelope: the current time, a unique Message-ID on the sender's domain."""
    return Envelope(to=to, date=now(), message_id=new_message_id(config), boundary=new_boundary())


class MessageFactory:
    """The messages of one rendered issue. Build it once per run, call it per message."""

    def __init__(self, config: Config, rendered: RenderedIssue, *, date: dt.datetime,
                 boundary: str, draft: bool) -> None:
        self.config = config
        self.subject = rendered.subject
        self.boundary = boundary
        # The discreet variant's neutral name stands for the sender's wherever a name shows:
        # From, List-Id's phrase, and the To of a Bcc draft (self.sender). Addresses stay.
        discreet = rendered.discreet
        self.sender: Mailbox = (discreet.sender_name if discreet else config.sender.name,
                                config.sender.email)
        self._from = address_header("From", [self.sender])
        self._after_recipients = (
            address_header("Reply-To", [("", config.reply_to)])
            + unstructured_header("Subject", rendered.subject)
            + raw_header("Date", format_datetime(date)))
        self._list_id = phrase_header("List-Id", discreet.sender_name if discreet
                                      else config.list_id.name, f"<{config.list_id.id}>")
        self._one_click = one_click_url(config)
        self._one_click_post = raw_header("List-Unsubscribe-Post", POST_VALUE)
        # X-Unsent: Apple Mail, Thunderbird and Outlook open the file as a draft to send.
        self._tail = ((b"X-Unsent: 1\r\n" if draft else b"") + b"MIME-Version: 1.0\r\n"
                      + f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
                      .encode("ascii") + b"\r\n")
        part = ('--{b}\r\nContent-Type: text/{sub}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        self._text_head = part.format(b=boundary, sub="plain").encode("ascii")
        self._html_head = ("\r\n" + part.format(b=boundary, sub="html")).encode("ascii")
        self._end = f"\r\n--{boundary}--\r\n".encode("ascii")
        self._text_pieces = qp.encode_pieces(rendered.text_with_slot, UNSUBSCRIBE_SLOT)
        self._html_pieces = qp.encode_pieces(rendered.html_with_slot, UNSUBSCRIBE_SLOT)
        start = unsubscribe_link_start(config)
        self._text_link = LinkEncoder(start, _as_is)
        self._html_link = LinkEncoder(start, html_lib.escape)

    def message(self, *, to: list[Mailbox], message_id: str, unsubscribe_url: str,
                bcc: list[Mailbox] | None = None) -> bytes:
        """One message as bytes, CRLF line ends, every line within 78 (headers) or 76 (bodies)."""
        return b"".join(self.message_pieces(to=to, message_id=message_id,
                                            unsubscribe_url=unsubscribe_url, bcc=bcc))

    def message_pieces(self, *, to: list[Mailbox], message_id: str, unsubscribe_url: str,
                       bcc: list[Mailbox] | None = None) -> list[bytes]:
        """The same message as pieces to write with os.writev: the parts shared by every
        message are not copied, so a batch of drafts holds only what differs."""
        head = (self._from + address_header("To", to)
                + (address_header("Bcc", bcc) if bcc else b"")
                + self._after_recipients + raw_header("Message-ID", message_id)
                + self._list_id + self._list_unsubscribe(to, bcc, unsubscribe_url)
                + self._tail)
        text_link = self._text_link.encode(unsubscribe_url)
        html_link = self._html_link.encode(unsubscribe_url)
        return [head, self._text_head, *_spliced(self._text_pieces, text_link),
                self._html_head, *_spliced(self._html_pieces, html_link), self._end]

    def _list_unsubscribe(self, to: list[Mailbox], bcc: list[Mailbox] | None,
                          unsubscribe_url: str) -> bytes:
        """List-Unsubscribe; with unsubscribe.one_click_url set, a message to one recipient
        also offers RFC 8058's one-click POST, its https URL first. A Bcc draft does not: the
        URL must name its recipient (RFC 8058 3.1), and a draft's recipients are many."""
        if self._one_click is None or bcc or len(to) != 1:
            return raw_header("List-Unsubscribe", f"<{unsubscribe_url}>")
        https = one_click_link(self._one_click, to[0][1])
        return (url_list_header("List-Unsubscribe", [https, unsubscribe_url])
                + self._one_click_post)


class MessageFactories:
    """The messages of one run: a MessageFactory per variant of the rendered issue (the usual
    one and, when newsletter.yaml has a discreet: section, the discreet one), each built once.

    `of(subscriber)` is the factory for that subscriber's variant; `message_pieces` builds a
    sample of every variant (a mode's `prepare` calls it, so a header that cannot be written
    stops the run before anything is) and returns the usual one's."""

    def __init__(self, config: Config, rendered: RenderedIssue,
                 discreet: RenderedIssue | None, *, date: dt.datetime, boundary: str,
                 draft: bool) -> None:
        self.usual = MessageFactory(config, rendered, date=date, boundary=boundary, draft=draft)
        self.discreet = (MessageFactory(config, discreet, date=date, boundary=boundary,
                                        draft=draft) if discreet is not None else None)

    def of(self, subscriber: Subscriber) -> MessageFactory:
        return self.variant(subscriber.discreet)

    def variant(self, discreet: bool) -> MessageFactory:
        if not discreet:
            return self.usual
        if self.discreet is None:  # emit refuses such a list before this (emit/versions.py)
            raise RenderError("a discreet subscriber, and no discreet version to send them",
                              "add a discreet: section to newsletter.yaml (README, "
                              "\"Discreet mode\")")
        return self.discreet

    def message_pieces(self, **message: Any) -> list[bytes]:
        if self.discreet is not None:
            self.discreet.message_pieces(**message)
        return self.usual.message_pieces(**message)


class LinkEncoder:
    """Quoted-printable of links that share a long start (each subscriber's unsubscribe
    link): the lines of the start that nothing after it can change are encoded once.

    `escape` must work character by character (html.escape does), so escape(start +
    tail) == escape(start) + escape(tail). encode(url) == qp.encode(escape(url),
    soft_end=True) for any url.
    """

    def __init__(self, start: str, escape: Callable[[str], str]) -> None:
        self.start, self.escape = start, escape
        escaped = escape(start)
        # Every line but the last ends where it would with more text after it: the
        # last may take in what follows.
        lines = qp.encode(escaped, soft_end=True).split(b"=\r\n")[:-2] if escaped.isascii() \
            else []
        self.head = b"".join(line + b"=\r\n" for line in lines)
        done = len(binascii.a2b_qp(b"".join(lines)))
        self.rest = escaped[done:]

    def encode(self, url: str) -> bytes:
        if not url.startswith(self.start):
            return qp.encode(self.escape(url), soft_end=True)
        return self.head + qp.encode(self.rest + self.escape(url[len(self.start):]),
                                     soft_end=True)


def _as_is(text: str) -> str:
    return text


def _spliced(pieces: list[bytes], link: bytes) -> list[bytes]:
    """`link.join(pieces)`, as a list: the link between every two pieces."""
    out = [pieces[0]]
    for piece in pieces[1:]:
        out += (link, piece)
    return out


def build_review_message(config: Config, rendered: RenderedIssue, envelope: Envelope,
                         unsubscribe_url: str) -> bytes:
    """The review copy `build` writes, to `envelope.to`; parsed back to check it."""
    factory = MessageFactory(config, rendered, date=envelope.date, boundary=envelope.boundary,
                             draft=False)
    data = factory.message(to=[("", envelope.to)], message_id=envelope.message_id,
                           unsubscribe_url=unsubscribe_url)
    verify(data, subject=rendered.subject, recipients=[envelope.to])
    return data


def verify(data: bytes, *, subject: str, recipients: list[str]) -> None:
    """Parse a message back: one of each header, the meant subject and recipients, no defects."""
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    names = [name.lower() for name in parsed]
    if len(names) != len(set(names)):
        raise RenderError(f"the message has a repeated header ({names})", "report this as a bug")
    got = [a.addr_spec for field in ("To", "Cc", "Bcc") if parsed[field]
           for a in parsed[field].addresses]
    if parsed["Subject"] != subject or got != recipients:
        raise RenderError(f"the message would be read with subject {parsed['Subject']!r} and "
                          f"recipients {got}", "simplify the subject; report this as a bug")
    if parsed.defects or any(part.defects for part in parsed.walk()):
        raise RenderError("the message written has MIME defects", "report this as a bug")
    if max(len(line) for line in data.split(b"\r\n")) > 998 or re.search(rb"(?<!\r)\n", data):
        raise RenderError("the message has a line over 998 octets or a bare line feed",
                          "report this as a bug")
