"""Signup mail -> what it asks: subscribe, unsubscribe, a bounce, an auto-reply, or not understood.

Requests are recognised by the words `send.py signup` pre-fills (newsletter.yaml),
tolerant of case, spacing, reply/forward prefixes in several languages, RFC 2047
subjects, quoted replies and HTML-only bodies. The subscriber is always the From
address: a Reply-To that differs is ignored and the request flagged.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from ..config import Config
from ..fields import Invalid
from .addresses import address_key, normalise_address

SUBSCRIBE, UNSUBSCRIBE, BOUNCE, AUTO_REPLY, NOT_UNDERSTOOD, MALFORMED = (
    "subscribe", "unsubscribe", "bounce", "auto-reply", "not-understood", "malformed")

# Re:, Fwd:, Fw:, AW: (German), WG:, TR: (French), SV:/VS: (Nordic), RE[2]:, ...
_PREFIX = re.compile(r"^\s*(?:re|fwd?|aw|wg|tr|sv|vs|antw|rif|enc|res)\s*(?:\[\d+\])?\s*[:：]\s*",
                     re.IGNORECASE)
_AUTO_SUBJECT = re.compile(r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?"
                           r"(?:reply|response)|autoreply|abwesenheit|absence|r[ée]ponse "
                           r"automatique|vacation)\b", re.IGNORECASE)
_QUOTE_INTRO = re.compile(r"^(?:on .{0,200} wrote:|am .{0,200} schrieb .{0,200}:|le .{0,200} a "
                          r"[ée]crit\s*:|-----\s*original message\s*-----|from: )", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """What one message asks, with the proof of it (Message-ID, date, subject)."""

    kind: str
    message_key: str                   # Message-ID, or a digest of the bytes when it has none
    subject: str
    date: dt.datetime | None
    address: str | None = None         # the subscriber (From); for a bounce, the failed address
    name: str = ""
    message_id: str | None = None
    bounced: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    reason: str = ""                   # for malformed / not understood

    @property
    def key(self) -> str | None:
        return address_key(self.address) if self.address else None


@dataclass(frozen=True)
class _Words:
    subscribe: str
    unsubscribe: str
    subscribe_body: str
    unsubscribe_body: str


def classify(data: bytes, config: Config, fallback_key: str) -> Request:
    """Read one raw message. Never raises: broken mail comes back as MALFORMED with a reason."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        subject = _header(message, "Subject")
        message_id = _header(message, "Message-ID").strip() or None
        date = _date(message)
    except Exception as exc:
        return Request(MALFORMED, fallback_key, "", None, reason=f"cannot be parsed ({exc})")
    key = message_id or fallback_key
    base = {"message_key": key, "subject": subject, "date": date, "message_id": message_id}
    try:
        if _is_delivery_report(message):
            bounced = _failed_recipients(message)
            if not bounced:
                return Request(NOT_UNDERSTOOD, **base, reason="a delivery report with no failure")
            return Request(BOUNCE, **base, bounced=bounced)
        if _is_auto_reply(message, subject):
            return Request(AUTO_REPLY, **base)
        kind = _asks(message, subject, _words(config))
        if kind is None:
            return Request(NOT_UNDERSTOOD, **base, reason="no subscribe or unsubscribe words")
        sender = _from(message)
        if sender is None:
            return Request(MALFORMED, **base, reason="no usable From address")
        name, address = sender
        flags = ()
        reply_to = _addresses(message, "Reply-To")
        if reply_to and any(address_key(r) != address_key(address) for r in reply_to):
            flags = ("reply-to differs from From: ignored",)
        return Request(kind, **base, address=address, name=name, flags=flags)
    except Exception as exc:
        return Request(MALFORMED, **base, reason=f"cannot be read ({type(exc).__name__}: {exc})")


def _words(config: Config) -> _Words:
    signup = config.signup
    return _Words(_fold(signup.subscribe_subject), _fold(signup.unsubscribe_subject),
                  _fold(signup.subscribe_body), _fold(signup.unsubscribe_body))


def _fold(text: str) -> str:
    """Case and spacing do not matter; neither do curly quotes or trailing punctuation."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    return " ".join(text.casefold().split()).strip(" .!")


def normalised_subject(subject: str) -> str:
    previous = None
    while previous != subject:
        previous, subject = subject, _PREFIX.sub("", subject)
    return _fold(subject)


def _asks(message: EmailMessage, subject: str, words: _Words) -> str | None:
    wanted = normalised_subject(subject)
    # Unsubscribe first: its words may contain the subscribe words ("unsubscribe" ⊃ "subscribe").
    if (words.unsubscribe and words.unsubscribe in wanted) or wanted == "unsubscribe":
        return UNSUBSCRIBE
    if (words.subscribe and words.subscribe in wanted) or wanted == "subscribe":
        return SUBSCRIBE
    # A subject the writer changed: the pre-filled body, above any quoted text, still says it.
    own = _fold(_own_text(message))
    if words.unsubscribe_body and words.unsubscribe_body in own:
        return UNSUBSCRIBE
    if words.subscribe_body and words.subscribe_body in own:
        return SUBSCRIBE
    return None


def _own_text(message: EmailMessage) -> str:
    """What the writer typed: the plain or HTML body without quoted replies or signatures."""
    part = message.get_body(("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(blockquote|style|script)\b.*?</\1>", " ", content)
        content = re.sub(r'(?is)<div[^>]*class="[^"]*(gmail_quote|moz-cite-prefix|'
                         r'OutlookMessageHeader)[^"]*".*', " ", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", " ", content))
    lines = []
    for line in content.splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or _QUOTE_INTRO.match(stripped) or stripped == "--":
            break
        lines.append(stripped)
    return " ".join(lines)


def _is_auto_reply(message: EmailMessage, subject: str) -> bool:
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if _header(message, "Precedence").strip().lower() in ("auto_reply", "auto-reply", "junk"):
        return True
    return bool(_AUTO_SUBJECT.search(subject))


def _is_delivery_report(message: EmailMessage) -> bool:
    return (message.get_content_type() == "multipart/report"
            and message.get_param("report-type", "").lower() == "delivery-status")


def _failed_recipients(message: EmailMessage) -> tuple[str, ...]:
    """RFC 3464: the recipients whose Action is 'failed' (delays are not bounces)."""
    failed = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = block.get("action", "").strip().lower()
            recipient = block.get("final-recipient") or block.get("original-recipient") or ""
            if action != "failed" or ";" not in recipient:
                continue
            try:
                failed.append(normalise_address(recipient.split(";", 1)[1].strip().strip("<>")))
            except Invalid:
                continue
    return tuple(dict.fromkeys(failed))


def _status_blocks(part: EmailMessage) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of a message/delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses it into header blocks
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    text = payload if isinstance(payload, str) else ""
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = dict(re.findall(r"(?m)^([A-Za-z-]+):\s*(.*)$", chunk))
        blocks.append({k.lower(): v for k, v in fields.items()})
    return blocks


def _from(message: EmailMessage) -> tuple[str, str] | None:
    raw = message.get_all("From") or []
    pairs = getaddresses([str(value) for value in raw])
    for name, address in pairs:
        try:
            return name.strip(), normalise_address(address)
        except Invalid:
            continue
    return None


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


def _date(message: EmailMessage) -> dt.datetime | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        value = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
