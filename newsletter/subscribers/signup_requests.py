"""Signup mail -> what it asks: subscribe, unsubscribe, a bounce, an auto-reply, or not understood.

Requests are recognised by the words `send.py signup` pre-fills (newsletter.yaml): the
subject, once reply prefixes are removed, must be exactly those words (case and spacing
aside), or the writer's own text (quoted replies removed) must hold the pre-filled body.
Anything else, a forwarded request, or a subscribe subject over a text that asks to
leave, is listed for the editor instead: a wrong guess would add someone who did not
ask, or keep sending to someone who asked to stop. The subscriber is always the single
From address: a Reply-To that differs is ignored and the request flagged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import quopri
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from ..source.config import Config
from ..source.fields import Invalid
from .addresses import address_key, normalise_address

SUBSCRIBE, UNSUBSCRIBE, BOUNCE, AUTO_REPLY, NOT_UNDERSTOOD, MALFORMED, OWN = (
    "subscribe", "unsubscribe", "bounce", "auto-reply", "not-understood", "malformed", "own")

# Replies: Re:, AW: (German), SV:/VS: (Nordic), Antw:, Rif:, Res:, RE[2]: ...
# Forwards: Fwd:, Fw:, WG: (German), TR: (French), RV: (Spanish), Enc: (Portuguese).
_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg|tr|rv|sv|vs|antw|rif|enc|res)\s*(?:\[\d+\])?\s*[:：]\s*",
                     re.IGNORECASE)
_FORWARD = {"fwd", "fw", "wg", "tr", "rv", "enc"}
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|"
    r"autoreply|\[auto-?reply\]|abwesenheit|abwesend|automatische antwort|absence|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|autosvar|"
    r"automatisch antwoord|vacation)", re.IGNORECASE)
# Words that ask to leave: a subscribe subject over them is not taken as a subscribe.
_LEAVING = ("unsubscribe", "remove me", "stop sending")
# Where the writer's own text ends and a quoted message begins, in the languages we meet.
_QUOTE_INTRO = re.compile(
    r"^(?:on\s.{0,300}\swrote\s*:|am\s.{0,300}\sschrieb\s.{0,300}:|le\s.{0,300}\sa\s[ée]crit\s*:|"
    r"op\s.{0,300}\sschreef\s.{0,300}:|el\s.{0,300}\sescribi\S{0,2}\s*:|"
    r"il\s.{0,300}\sha\sscritto\s*:|em\s.{0,300}\sescreveu\s*:|"
    r"(?:from|von|de|van|da|fra|fr[åa]n|expéditeur|absender)\s*:\s*\S|"
    r"-{5,}|_{10,})", re.IGNORECASE)
_HTML_QUOTE = re.compile(r"gmail_quote|gmail_attr|moz-cite-prefix|OutlookMessageHeader|"
                         r"divRplyFwdMsg|appendonsend|yahoo_quoted|protonmail_quote",
                         re.IGNORECASE)
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+\.[^\s<>()\[\]\"',;:]+")
MAX_TEXT = 200_000  # characters of a body examined: a request is a line, not a book
FUTURE_SLACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Request:
    """What one message asks, with the proof of it (Message-ID, date, subject)."""

    kind: str
    message_key: str                   # see message_key(): what makes a message "read before"
    subject: str
    date: dt.datetime | None
    address: str | None = None         # the subscriber (From); for a bounce, the failed address
    name: str = ""
    message_id: str | None = None
    bounced: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    reason: str = ""                   # for malformed / not understood
    named: tuple[str, ...] = ()        # addresses the writer's own text names (unsubscribe)

    @property
    def key(self) -> str | None:
        return address_key(self.address) if self.address else None


@dataclass(frozen=True)
class _Words:
    subscribe: str
    unsubscribe: str
    subscribe_body: str
    unsubscribe_body: str


def classify(data: bytes, config: Config, fallback_key: str, *, now: dt.datetime,
             arrived: dt.datetime | None = None) -> Request:
    """Read one raw message. Never raises: broken mail comes back as MALFORMED with a reason.

    `now` is the time of the import and `arrived` when the source says the message
    arrived (mbox From_ line, Maildir delivery, IMAP INTERNALDATE): a request without a
    usable Date gets that date rather than counting as the oldest, and a Date in the
    future is brought back to `now`; both are flagged.
    """
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        subject = _header(message, "Subject")
        message_id = _header(message, "Message-ID").strip() or None
        date, date_flags = _date(message, now, arrived)
        key = message_key(message, data, message_id)
    except Exception as exc:
        return Request(MALFORMED, fallback_key, "", None, reason=f"cannot be parsed ({exc})")
    base = {"message_key": key, "subject": subject, "date": date, "message_id": message_id}
    try:
        if _is_delivery_report(message):
            bounced = _failed_recipients(message)
            if not bounced:
                return Request(NOT_UNDERSTOOD, **base, reason="a delivery report with no failure")
            return Request(BOUNCE, **base, bounced=bounced)
        prefixes, bare = _split_prefixes(subject)
        if _is_auto_reply(message, bare):
            return Request(AUTO_REPLY, **base)
        if _FORWARD & prefixes:
            return Request(NOT_UNDERSTOOD, **base,
                           reason="a forwarded message: who is asking is not clear")
        own = _own_text(message)
        kind, reason = _asks(_fold(bare), _fold(own), _words(config))
        if kind is None:
            return Request(NOT_UNDERSTOOD, **base, reason=reason)
        sender = _from(message)
        if isinstance(sender, str):
            return Request(MALFORMED, **base, reason=sender)
        name, address = sender
        if address_key(address) in {address_key(config.sender.email),
                                    address_key(config.reply_to)}:
            return Request(OWN, **base, address=address, name=name,
                           flags=("sent from the newsletter's own address: ignored",))
        flags = date_flags
        reply_to = _addresses(message, "Reply-To")
        if reply_to and any(address_key(r) != address_key(address) for r in reply_to):
            flags += ("reply-to differs from From: ignored",)
        named = _named_addresses(own) if kind == UNSUBSCRIBE else ()
        return Request(kind, **base, address=address, name=name, flags=flags, named=named)
    except Exception as exc:
        return Request(MALFORMED, **base, reason=f"cannot be read ({type(exc).__name__}: {exc})")


def message_key(message: EmailMessage, data: bytes, message_id: str | None) -> str:
    """What makes a message one already read.

    The Message-ID with a digest of From, Date and Subject: another message that reuses a
    Message-ID (a careless client, a forger) is still read. Without a Message-ID, a digest
    of those headers and the body: mail clients rewrite status headers (Status:, X-Mozilla-
    Status:) in place, so the whole raw message is not the same message twice.
    """
    fields = "\0".join(str(message.get(name, "")) for name in ("From", "Date", "Subject"))
    if message_id:
        return f"{message_id}\n{hashlib.sha256(fields.encode()).hexdigest()[:16]}"
    normalised = data.replace(b"\r\n", b"\n")
    body = normalised.split(b"\n\n", 1)[1] if b"\n\n" in normalised else b""
    return "sha256:" + hashlib.sha256(fields.encode() + b"\0" + body).hexdigest()


def _words(config: Config) -> _Words:
    signup = config.signup
    return _Words(_fold(signup.subscribe_subject), _fold(signup.unsubscribe_subject),
                  _fold(signup.subscribe_body), _fold(signup.unsubscribe_body))


def _fold(text: str) -> str:
    """Case and spacing do not matter; neither do curly quotes or trailing punctuation."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    return " ".join(text.casefold().split()).strip(" .!")


def _split_prefixes(subject: str) -> tuple[set[str], str]:
    """({'re', 'fwd', ...}, the subject without them)."""
    found: set[str] = set()
    while match := _PREFIX.match(subject):
        found.add(match[1].lower())
        subject = subject[match.end():]
    return found, subject


def normalised_subject(subject: str) -> str:
    return _fold(_split_prefixes(subject)[1])


def _asks(wanted: str, own: str, words: _Words) -> tuple[str | None, str]:
    """(SUBSCRIBE or UNSUBSCRIBE or None, why not) from the folded subject and own text."""
    leaving = [w for w in (words.unsubscribe_body, *_LEAVING) if w and w in own]
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


def _own_text(message: EmailMessage) -> str:
    """What the writer typed: the plain or HTML body without quoted replies or signatures."""
    part = message.get_body(("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()[:MAX_TEXT]
    if part.get_content_subtype() == "html":
        content = _html_text(content)
    lines = [line.strip() for line in content.splitlines()]
    own = []
    for number, line in enumerate(lines):
        # Gmail wraps a long "On <date> <name> <address> wrote:" over two lines.
        two_lines = f"{line} {lines[number + 1]}" if number + 1 < len(lines) else line
        if line.startswith(">") or line == "--" or (line and _QUOTE_INTRO.match(two_lines)):
            break
        own.append(line)
    return "\n".join(own)


class _StopReading(Exception):
    pass


class _TextOutside(HTMLParser):
    """The text of an HTML body outside quotes, styles and scripts, up to a quote container."""

    SKIP = frozenset({"blockquote", "style", "script", "head", "title"})
    BREAK = frozenset({"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        if tag == "hr" or _HTML_QUOTE.search(marks):
            raise _StopReading
        if tag in self.SKIP:
            self.skipping += 1
        if tag in self.BREAK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        if tag in self.BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html_text(content: str) -> str:
    parser = _TextOutside()
    try:
        parser.feed(_defuse(content))
        parser.close()
    except _StopReading:
        pass
    return "".join(parser.parts)


def _defuse(content: str) -> str:
    """Escape every '<' that another '<' follows before any '>': it opens no tag.

    html.parser rescans to the end of the text for each unclosed '<' (quadratic: a
    message of "<div " * 20000 takes a minute, holding the store's write lock); after
    this every '<' left has its '>' before the next '<'.
    """
    out = []
    next_close = next_open = len(content)
    for index in range(len(content) - 1, -1, -1):
        char = content[index]
        if char == ">":
            next_close = index
        elif char == "<":
            out.append("&lt;" if next_open < next_close else "<")
            next_open = index
            continue
        out.append(char)
    return "".join(reversed(out))


def _named_addresses(own: str) -> tuple[str, ...]:
    """Addresses written in the text: the unsubscribe link of an issue adds the reader's."""
    found = []
    for candidate in _ADDRESS.findall(own):
        try:
            found.append(normalise_address(candidate.strip(".")))
        except Invalid:
            continue
    return tuple(dict.fromkeys(found))


def _is_auto_reply(message: EmailMessage, bare_subject: str) -> bool:
    auto = re.sub(r"\([^)]*\)", "", _header(message, "Auto-Submitted")).strip().lower()
    if auto and auto != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        value = _header(message, name).strip().lower()
        if value and value not in ("no", "false", "0"):
            return True
    if _header(message, "Precedence").strip().lower() in ("auto_reply", "auto-reply", "junk"):
        return True
    return bool(_AUTO_SUBJECT.search(bare_subject))


_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def _is_delivery_report(message: EmailMessage) -> bool:
    return (message.get_content_type() == "multipart/report"
            and message.get_param("report-type", "").lower() in (
                "delivery-status", "global-delivery-status"))


def _failed_recipients(message: EmailMessage) -> tuple[str, ...]:
    """RFC 3464: the recipients whose Action is 'failed' (delays are not bounces).

    Original-Recipient is the address as we sent it; Final-Recipient may be where a
    forward took it, so it is used only when the original is not given.
    """
    failed = []
    for part in message.walk():
        if part.get_content_type() not in _STATUS_TYPES:
            continue
        for block in _status_blocks(part):
            action = re.sub(r"\([^)]*\)", "", block.get("action", "")).strip().lower()
            if action != "failed":
                continue
            for field_name in ("original-recipient", "final-recipient"):
                recipient = block.get(field_name, "")
                if ";" not in recipient:
                    continue
                try:
                    failed.append(normalise_address(
                        recipient.split(";", 1)[1].strip().strip("<>")))
                    break
                except Invalid:
                    continue
    return tuple(dict.fromkeys(failed))


def _status_blocks(part: EmailMessage) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of a delivery-status part."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    encoded = encoding in ("base64", "quoted-printable")
    payload = part.get_payload()
    if (isinstance(payload, list) and not encoded
            and part.get_content_type() == "message/delivery-status"):
        # The email package parses message/delivery-status into header blocks.
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    if isinstance(payload, list):
        # Parsed as a message before being decoded (message/global-delivery-status is
        # taken for one message of headers and a body): back to the text it was.
        raw = part.as_bytes(policy=policy.default.clone(linesep="\n")).split(b"\n\n", 1)[-1]
        if encoding == "base64":
            raw = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw))
        elif encoding == "quoted-printable":
            raw = quopri.decodestring(raw)
        text = raw.decode("utf-8", "replace")
    else:
        decoded = part.get_payload(decode=True)
        text = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else str(payload)
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = dict(re.findall(r"(?m)^([A-Za-z-]+):\s*(.*?)\s*$", chunk))
        blocks.append({k.lower(): v for k, v in fields.items()})
    return blocks


def _from(message: EmailMessage) -> tuple[str, str] | str:
    """(display name, address) of the one sender, or why there is none."""
    raw = message.get_all("From") or []
    if len(raw) > 1:
        return "more than one From header: who is asking is not clear"
    pairs = [(n, a) for n, a in getaddresses([str(value) for value in raw]) if n or a]
    if len(pairs) > 1:
        return "more than one From address: who is asking is not clear"
    for name, address in pairs:
        try:
            return name.strip(), normalise_address(address)
        except Invalid:
            continue
    return "no usable From address"


def _addresses(message: EmailMessage, field_name: str) -> list[str]:
    found = []
    for _, address in getaddresses([str(v) for v in message.get_all(field_name) or []]):
        try:
            found.append(normalise_address(address))
        except Invalid:
            continue
    return found


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _date(message: EmailMessage, now: dt.datetime,
          arrived: dt.datetime | None) -> tuple[dt.datetime, tuple[str, ...]]:
    raw = message.get("Date")
    value = None
    if raw is not None:
        try:
            value = parsedate_to_datetime(str(raw))
        except (TypeError, ValueError, IndexError):
            value = None
    if value is None:
        stand_in, source = (arrived, "its arrival") if arrived else (now, "the import")
        return stand_in, (f"no usable Date: dated by {source}, {stand_in:%Y-%m-%d %H:%M}",)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if value > now + FUTURE_SLACK:
        return now, (f"Date {value:%Y-%m-%d} is in the future: dated by the import, "
                     f"{now:%Y-%m-%d %H:%M}",)
    return value, ()
