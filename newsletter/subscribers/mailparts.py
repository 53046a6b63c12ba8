"""Reading one signup message: its headers, its sender, its date, and the writer's own text.

Mail from people is untidy: reply prefixes in many languages, quoted replies under the
text, HTML built to defeat parsers. These functions read what a rule needs and never
decide what a message asks (the rules in signup_requests.py do).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from ..source.fields import Invalid
from .addresses import normalise_address

# Replies: Re:, AW: (German), SV:/VS: (Nordic), Antw:, Rif:, Res:, RE[2]: ...
# Forwards: Fwd:, Fw:, WG: (German), TR: (French), RV: (Spanish), Enc: (Portuguese).
_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg|tr|rv|sv|vs|antw|rif|enc|res)\s*(?:\[\d+\])?\s*[:：]\s*",
                     re.IGNORECASE)
FORWARD = {"fwd", "fw", "wg", "tr", "rv", "enc"}
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|"
    r"autoreply|\[auto-?reply\]|abwesenheit|abwesend|automatische antwort|absence|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|autosvar|"
    r"automatisch antwoord|vacation)", re.IGNORECASE)
# "On <date>, <name> wrote:" and its translations: a quote follows. When '>' lines follow it
# they are the quote and the writer may go on below them (bottom-posting); unquoted text
# after it (Gmail's plain part, Apple Mail) is the quote itself.
_QUOTE_INTRO = re.compile(
    r"^(?:on\s.{0,300}\swrote\s*:|am\s.{0,300}\sschrieb\s.{0,300}:|le\s.{0,300}\sa\s[ée]crit\s*:|"
    r"op\s.{0,300}\sschreef\s.{0,300}:|el\s.{0,300}\sescribi\S{0,2}\s*:|"
    r"il\s.{0,300}\sha\sscritto\s*:|em\s.{0,300}\sescreveu\s*:|"
    r"den\s.{0,300}\sskrev\s.{0,300}:|.{0,300}\s(?:wrote|schrieb|escribió|a écrit)\s*:\s*$)",
    re.IGNORECASE)
# Where everything below is a quoted or forwarded message: Outlook's header block
# (From:/Von:/De :/...), "-----Original Message-----", "---------- Forwarded message",
# Outlook's rule of underscores.
_QUOTE_START = re.compile(
    r"^(?:(?:from|von|de|van|da|fra|fr[åa]n|od|expéditeur|absender)\s*:\s*\S|-{5,}|_{10,}|"
    r"begin forwarded message:|anfang der weitergeleiteten nachricht:|"
    r"début du message réexpédié\s*:|inicio del mensaje reenviado:)",
    re.IGNORECASE)
# A client's signature line: the writer's text ends there.
_SIGNATURE = re.compile(
    r"^(?:--|sent from my \S.{0,40}|get outlook for \S.{0,20}|von meinem \S.{0,30} gesendet|"
    r"envoyé de mon \S.{0,30}|enviado desde mi \S.{0,30}|inviato da(?:l mio)? \S.{0,30}|"
    r"verzonden vanaf mijn \S.{0,30}|skickat från min \S.{0,30}|sendt fra min \S.{0,30})$",
    re.IGNORECASE)
_HTML_QUOTE = re.compile(r"gmail_quote|OutlookMessageHeader|divRplyFwdMsg|appendonsend|"
                         r"yahoo_quoted|protonmail_quote", re.IGNORECASE)
# Thunderbird's and Gmail's "On ... wrote:" lines in HTML: skipped, the text goes on after.
_HTML_INTRO = re.compile(r"moz-cite-prefix|gmail_attr", re.IGNORECASE)
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+\.[^\s<>()\[\]\"',;:]+")
MAX_TEXT = 200_000  # characters of a body examined: a request is a line, not a book


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


def fold(text: str) -> str:
    """Case and spacing do not matter; neither do curly quotes or trailing punctuation."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    return " ".join(text.casefold().split()).strip(" .!")


def split_prefixes(subject: str) -> tuple[set[str], str]:
    """({'re', 'fwd', ...}, the subject without them)."""
    found: set[str] = set()
    while match := _PREFIX.match(subject):
        found.add(match[1].lower())
        subject = subject[match.end():]
    return found, subject


def normalised_subject(subject: str) -> str:
    return fold(split_prefixes(subject)[1])


def own_text(message: EmailMessage) -> str:
    """What the writer typed: the plain or HTML body without quoted replies or signatures.

    Measured against mail-parser-reply 1.36 (issue 14) on tests/signup_mail.py's REPLIES:
    30 replies and forwards as Apple Mail, Gmail, Outlook (HTML and plain), Thunderbird
    (plain and HTML) and K-9 write them, in eight languages, top- and bottom-posted, each
    scored on "the writer's words found, nothing of the quoted digest kept". These rules:
    30 of 30 (the rules before issue 14: 25, every bottom-posted reply lost).
    mail-parser-reply, with all 14 of its languages, on the same text (HTML made text by
    _html_text): 20 of 30. It keeps the whole quote of the 4 bottom-posted plain replies
    (our footer's "Unsubscribe" with it, which would unsubscribe a reader who said thanks)
    and the quote under the Spanish, Dutch and Portuguese intros as Gmail and Apple Mail
    write them (6). So the hand-written rules stay, with no new dependency.
    """
    part = message.get_body(("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()[:MAX_TEXT]
    if part.get_content_subtype() == "html":
        content = _html_text(content)
    return plain_own_text(content)


def plain_own_text(content: str) -> str:
    """The writer's lines of a plain-text body (see own_text)."""
    lines = [line.strip() for line in content.splitlines()]
    own: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        # Gmail wraps a long "On <date> <name> <address> wrote:" over two lines.
        two_lines = f"{line} {lines[number + 1]}" if number + 1 < len(lines) else line
        if line.startswith(">"):
            number += 1
            continue
        if line and (_QUOTE_INTRO.match(line) or _QUOTE_INTRO.match(two_lines)):
            after = number + (1 if _QUOTE_INTRO.match(line) else 2)
            while after < len(lines) and not lines[after]:
                after += 1
            if after < len(lines) and lines[after].startswith(">"):
                number = after  # a '>' quote: the writer may go on below it
                continue
            break
        if _SIGNATURE.match(line) or (line and _QUOTE_START.match(line)):
            break
        own.append(line)
        number += 1
    return "\n".join(own).strip("\n")


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
        self.intro: list[str] = []  # open tags of a skipped "On ... wrote:" element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        if tag == "hr" or _HTML_QUOTE.search(marks):
            raise _StopReading
        if self.intro and tag == self.intro[0]:
            self.intro.append(tag)
        elif not self.intro and _HTML_INTRO.search(marks):
            self.intro.append(tag)
            self.skipping += 1
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
        if self.intro and tag == self.intro[0]:
            self.intro.pop()
            if not self.intro:
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


def named_addresses(own: str) -> tuple[str, ...]:
    """Addresses written in the text: the unsubscribe link of an issue adds the reader's."""
    found = []
    for candidate in _ADDRESS.findall(own):
        try:
            found.append(normalise_address(candidate.strip(".")))
        except Invalid:
            continue
    return tuple(dict.fromkeys(found))


def is_auto_reply(message: EmailMessage, bare_subject: str) -> bool:
    auto = re.sub(r"\([^)]*\)", "", header(message, "Auto-Submitted")).strip().lower()
    if auto and auto != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        value = header(message, name).strip().lower()
        if value and value not in ("no", "false", "0"):
            return True
    if header(message, "Precedence").strip().lower() in ("auto_reply", "auto-reply", "junk"):
        return True
    return bool(_AUTO_SUBJECT.search(bare_subject))


def raw_8bit(message: EmailMessage, name: str) -> tuple[list[str], str | None]:
    """The header's values with raw 8-bit bytes decoded, and the charset guessed, if any.

    Python's email (policy.default) keeps undeclared 8-bit header bytes as surrogate
    escapes and shows them as U+FFFD. They are read as UTF-8 first (what most clients
    send), then as the charset the message declares, then as Latin-1 (which cannot fail);
    anything but UTF-8 is a guess the caller flags.
    """
    values = [str(v) for n, v in message.raw_items() if n.lower() == name.lower()]
    if not any(_ESCAPED.search(v) for v in values):
        return [], None
    raw = [v.encode("ascii", "surrogateescape") for v in values]
    declared = message.get_content_charset()
    for charset in ("utf-8", declared, "latin-1"):
        if not charset:
            continue
        try:
            decoded = [" ".join(b.decode(charset).split()) for b in raw]
        except (UnicodeDecodeError, LookupError):
            continue
        return decoded, None if charset == "utf-8" else charset
    return [], None


_ESCAPED = re.compile("[\udc80-\udcff]")


def sender(message: EmailMessage) -> tuple[str, str] | str:
    """(display name, address) of the one sender, or why there is none."""
    decoded, _ = raw_8bit(message, "From")
    raw = decoded or message.get_all("From") or []
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


def addresses(message: EmailMessage, field_name: str) -> list[str]:
    found = []
    for _, address in getaddresses([str(v) for v in message.get_all(field_name) or []]):
        try:
            found.append(normalise_address(address))
        except Invalid:
            continue
    return found


def header(message: EmailMessage, name: str) -> str:
    decoded, _ = raw_8bit(message, name)
    if decoded:
        return decoded[0]
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def date(message: EmailMessage, now: dt.datetime,
         arrived: dt.datetime | None) -> tuple[dt.datetime, tuple[str, ...]]:
    """The request's date and, when it is not the Date header's, a flag saying why."""
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
    return value, ()  # a Date far in the future or too old is the dates rule's (dates.py)
