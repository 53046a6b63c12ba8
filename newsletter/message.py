"""RenderedIssue + recipient -> the bytes of one email; deterministic given clock, id, boundary."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime

from .config import Config
from .errors import RenderError
from .mailto import mailto_link
from .render import RenderedIssue

# CRLF line ends, and quoted-printable lines of 76 characters as RFC 2045 asks
# (policy.SMTP writes 78, which SpamAssassin flags as MIME_QP_LONG_LINE).
# refold_source="none": headers set with set_raw() are written exactly as given;
# the email package would otherwise RFC 2047-encode a long URL, which no client
# then reads as a List-Unsubscribe address.
WIRE_POLICY = policy.SMTP.clone(max_line_length=76, refold_source="none")


@dataclass(frozen=True)
class Envelope:
    """What differs between two messages of the same issue. Pass fixed values for golden output."""

    to: str
    date: dt.datetime
    message_id: str
    boundary: str


def new_envelope(config: Config, to: str, now: dt.datetime | None = None) -> Envelope:
    """A fresh envelope: the current time, a unique Message-ID on the sender's domain."""
    token = uuid.uuid4().hex
    return Envelope(to=to, date=now or dt.datetime.now(dt.UTC).astimezone(),
                    message_id=f"<{token}@{config.sender.domain}>", boundary=f"=_{token}")


def unsubscribe_link(config: Config) -> str:
    return mailto_link(config.sender.email, config.signup.unsubscribe_subject,
                       config.signup.unsubscribe_body)


def build_message(rendered: RenderedIssue, config: Config, envelope: Envelope,
                  unsubscribe_url: str | None = None) -> bytes:
    """The message as bytes: multipart/alternative, text/plain first, then text/html, UTF-8.

    The written bytes are parsed back and compared with what was meant, because
    Python's email package has turned header values into extra headers before.
    """
    unsubscribe_url = unsubscribe_url or unsubscribe_link(config)
    html, text = rendered.parts(unsubscribe_url)
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = Address(config.sender.name, addr_spec=config.sender.email)
    msg["To"] = envelope.to
    msg["Reply-To"] = config.reply_to
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(envelope.date)
    msg["Message-ID"] = envelope.message_id
    msg["List-Id"] = f"{config.list_id.name} <{config.list_id.id}>"
    msg.set_raw("List-Unsubscribe", f"<{_ascii_url(unsubscribe_url)}>")
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # only the top level needs it; the email package adds it twice
    msg.set_boundary(envelope.boundary)
    data = msg.as_bytes(policy=WIRE_POLICY)
    _verify(data, rendered.subject, unsubscribe_url)
    return data


def _ascii_url(url: str) -> str:
    """A URL safe to write raw into a header: printable ASCII, no spaces, not too long."""
    if not re.fullmatch(r"[!-~]{1,900}", url):
        raise RenderError(f"the unsubscribe link {url[:60]!r} cannot go in a mail header",
                          "it must be percent-encoded ASCII without spaces")
    return url


_EXPECTED_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
                     "List-Unsubscribe", "MIME-Version", "Content-Type"]


def _verify(data: bytes, subject: str, unsubscribe_url: str) -> None:
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    names = list(parsed.keys())
    if (names != _EXPECTED_HEADERS or parsed["Subject"] != subject or parsed.defects
            or parsed["List-Unsubscribe"] != f"<{unsubscribe_url}>"):
        raise RenderError("the message written does not match the one meant "
                          f"(headers {names}, subject {parsed['Subject']!r})",
                          "a value likely holds text a mail reader would decode; simplify it")
    if max(len(line) for line in data.split(b"\r\n")) > 998 or re.search(rb"(?<!\r)\n", data):
        raise RenderError("the message has a line over 998 octets or a bare line feed",
                          "report this as a bug")
