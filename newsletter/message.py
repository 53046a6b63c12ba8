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
from .mailto import MAX_HEADER_URL, mailto_link

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


def build_message(config: Config, envelope: Envelope, subject: str, text: str, html: str,
                  unsubscribe_url: str) -> bytes:
    """The message as bytes: multipart/alternative, text/plain first, then text/html, UTF-8.

    The written bytes are parsed back and compared with what was meant, because
    Python's email package has turned header values into extra headers before.
    """
    if _UNSAFE_IN_HEADER.search(subject):
        raise RenderError(f"the subject {subject[:60]!r} contains a line break or control "
                          "character", "write the subject on one line")
    msg = EmailMessage(policy=WIRE_POLICY)
    msg["From"] = Address(config.sender.name, addr_spec=config.sender.email)
    msg["To"] = envelope.to
    msg["Reply-To"] = config.reply_to
    msg["Subject"] = subject
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
    _verify(data, {
        "From": str(msg["From"]), "To": envelope.to, "Subject": subject,
        "List-Id": str(msg["List-Id"]), "List-Unsubscribe": f"<{unsubscribe_url}>"})
    return data


# Anything a header could be split at: CR, LF and the other Unicode line breaks, controls.
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _ascii_url(url: str) -> str:
    """A URL safe to write raw into a header: printable ASCII, no spaces, not too long."""
    if len(url) > MAX_HEADER_URL or not re.fullmatch(r"[!-~]+", url):
        raise RenderError(f"the unsubscribe link {url[:60]!r} cannot go in a mail header",
                          "it must be percent-encoded ASCII without spaces, at most "
                          f"{MAX_HEADER_URL} characters")
    return url


_EXPECTED_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
                     "List-Unsubscribe", "MIME-Version", "Content-Type"]


def _verify(data: bytes, meant: dict[str, str]) -> None:
    """Parse the bytes back: the same headers, each read back as meant, no defects, short lines."""
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    names = list(parsed.keys())
    if names != _EXPECTED_HEADERS:
        raise RenderError(f"the message written has the headers {names}, not the ones meant",
                          "a value holds text a mail reader would split; simplify it")
    for name, value in meant.items():
        if str(parsed[name]) != value:
            raise RenderError(f"the {name} header would be read as {str(parsed[name])!r}, "
                              f"not {value!r}", f"simplify the {name.lower()} text")
    if parsed.defects or any(part.defects for part in parsed.walk()):
        raise RenderError("the message written has MIME defects", "report this as a bug")
    if max(len(line) for line in data.split(b"\r\n")) > 998 or re.search(rb"(?<!\r)\n", data):
        raise RenderError("the message has a line over 998 octets or a bare line feed",
                          "report this as a bug")
