"""Mail header lines written byte by byte, so no value can add a header or a recipient.

Python's email package refolds and re-parses values, and in 3.11 can turn text
that looks like an encoded word into a real header. Here every header line is
built from values that have been checked or encoded, and the result is plain
ASCII with CRLF folding only where this module puts it.
"""

from __future__ import annotations

import base64
import re
import unicodedata

from ..errors import RenderError

MAX_LINE = 78
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
# Controls and line breaks of every kind, and bidi controls that can make an
# address read backwards in a mail app ("evil\u202emoc.elpmaxe").
_UNSAFE_CHARS = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e"
                           "\\u2066-\\u2069\\ufeff]")
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
# Words of those characters one space apart, or nothing: what clean_display_name keeps as is.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PHRASE = re.compile(f"(?:{_ATOM}(?: {_ATOM})*)?")
_ADDRESS = re.compile(r"[!-~]+@[!-~]+")
_NOT_IN_ADDRESS = re.compile(r'[<>,;"]')


def clean_display_name(name: str) -> str:
    """A display name with line breaks, controls and bidi overrides turned into spaces."""
    return " ".join(_UNSAFE_CHARS.sub(" ", unicodedata.normalize("NFC", name)).split())


def address_header(field: str, pairs: list[tuple[str, str]]) -> bytes:
    """'Field: Name <a@b>, ...' folded at 78 columns, names quoted or RFC 2047 encoded.

    Addresses must already be validated ASCII addr-specs; names are cleaned here.
    """
    if len(pairs) == 1 and (line := _one_line(field, *pairs[0])) is not None:
        return line
    return _folded_address_header(field, pairs)


def _one_line(field: str, name: str, address: str) -> bytes | None:
    """The usual case, 'To: Ann Lee <ann@example.com>', without the folding machinery:
    a name of plain words (nothing to clean, quote or encode) on one line. None when
    the name or the length needs _folded_address_header; it gives the same bytes."""
    if not _PLAIN_PHRASE.fullmatch(name) or "=?" in name or len(name) > 60:
        return None
    _check_address(address)
    line = f"{field}: {name} <{address}>\r\n" if name else f"{field}: {address}\r\n"
    return line.encode("ascii") if len(line) <= MAX_LINE + 2 else None


def _folded_address_header(field: str, pairs: list[tuple[str, str]]) -> bytes:
    items = []
    for name, address in pairs:
        _check_address(address)
        items.append(_mailbox(clean_display_name(name), address))
    return _fold(field, items, separator=",")


def _check_address(address: str) -> None:
    if not _ADDRESS.fullmatch(address) or _NOT_IN_ADDRESS.search(address):
        raise RenderError(f"{address!r} cannot go in a mail header",
                          "addresses must be validated before they reach a message")


def _mailbox(name: str, address: str) -> list[str]:
    """A mailbox as words to fold between: ['"Name"', '<a@b>'] or encoded words."""
    if not name:
        return [address]
    if _PRINTABLE_ASCII.fullmatch(name) and "=?" not in name and len(name) <= 60:
        if _ATEXT_PHRASE.fullmatch(name) and not name.startswith(" "):
            return [*name.split(" "), f"<{address}>"]
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return [f'"{quoted}"', f"<{address}>"]
    # Anything else (non-ASCII, very long, or text a decoder would take for an
    # encoded word) is encoded whole, so it decodes to exactly the name.
    return [*encoded_words(name, first_room=MAX_LINE - len("Reply-To: ")), f"<{address}>"]


def phrase_header(field: str, phrase: str, token: str) -> bytes:
    """'List-Id: Mindshape newsletter <newsletter.mindshape.io>': a phrase, then a <token>."""
    if not re.fullmatch(r"<[!-~]+>", token):
        raise RenderError(f"the {field} value {token!r} cannot go in a mail header",
                          "it must be printable ASCII in angle brackets")
    words = _mailbox(clean_display_name(phrase), "")[:-1] if phrase else []
    return _fold(field, [[*words, token]], separator="")


def encoded_words(text: str, first_room: int = 75) -> list[str]:
    """RFC 2047 base64 encoded words, never splitting a character.

    The first word fits in `first_room` columns (what is left after the field
    name), the others in 75. A word ends after a space where one is near: some
    decoders (Python's among them) put a space between adjacent encoded words in a
    display name, so a break inside a word would show as one; a break after a space
    shows at worst as two.
    """
    words: list[bytes] = []
    chunk = b""
    room = _payload_bytes(first_room)
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > room:
            cut = chunk.rfind(b" ") + 1
            if cut <= len(chunk) // 2:  # no space in the last half: break here
                cut = len(chunk)
            words.append(chunk[:cut])
            chunk = chunk[cut:]
            room = _payload_bytes(75)
        chunk += data
    if chunk:
        words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]


def _payload_bytes(columns: int) -> int:
    """Bytes of text an encoded word of `columns` characters carries (12 are its wrapping)."""
    return max((columns - 12) // 4 * 3, 3)


def unstructured_header(field: str, value: str) -> bytes:
    """A Subject-like header: ASCII words folded, or RFC 2047 encoded when not plain ASCII."""
    if _UNSAFE_CHARS.search(value):
        raise RenderError(f"the {field} {value[:60]!r} contains a line break or control character",
                          "write it on one line")
    if _PRINTABLE_ASCII.fullmatch(value) and "=?" not in value and \
            max((len(word) for word in value.split(" ")), default=0) <= MAX_LINE - len(field) - 2:
        return _fold(field, [value.split(" ")], separator="")
    return _fold(field, [encoded_words(value, first_room=MAX_LINE - len(field) - 2)],
                 separator="")


def raw_header(field: str, value: str) -> bytes:
    """A header whose value is a checked ASCII token (a Message-ID, a URL in <>), unfolded."""
    if not re.fullmatch(r"[!-~]+( [!-~]+)*", value) or len(field) + 2 + len(value) > 998:
        raise RenderError(f"the {field} value {value[:60]!r} cannot go in a mail header",
                          "it must be printable ASCII, at most 990 characters")
    return f"{field}: {value}\r\n".encode("ascii")


def url_list_header(field: str, urls: list[str]) -> bytes:
    """'List-Unsubscribe: <https://...>, <mailto:...>' (RFC 2369): each URL in angle brackets,
    on one line when it fits 78 columns, else one URL per line, folded only after a comma.

    The bytes depend on the URLs alone, and a DKIM signature made over them survives relaxed
    and simple canonicalisation as long as nobody refolds: nothing here invites it.
    """
    items = []
    for url in urls:
        if not re.fullmatch(r"[!-~]+", url) or re.search(r"[<>]", url):
            raise RenderError(f"the {field} URL {url[:60]!r} cannot go in a mail header",
                              "it must be printable ASCII without spaces, < or >")
        items.append(f"<{url}>")
    line = f"{field}: {', '.join(items)}"
    lines = [line] if len(line) <= MAX_LINE else [
        (f"{field}: " if n == 0 else " ") + item + ("," if n < len(items) - 1 else "")
        for n, item in enumerate(items)]
    if max(len(each) for each in lines) > 998:
        raise RenderError(f"a {field} URL is too long for a mail header",
                          "keep each URL under 990 characters")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _fold(field: str, items: list[list[str]], separator: str) -> bytes:
    """Join items (each a list of words), folding with CRLF + space before a word that would
    pass 78 columns. Folding only ever happens at a space, so unfolding restores the text."""
    line = f"{field}:"
    out = []
    for index, words in enumerate(items):
        for position, word in enumerate(words):
            piece = word + (separator if index < len(items) - 1 and position == len(words) - 1
                            else "")
            if len(line) + 1 + len(piece) > MAX_LINE and line.strip() != f"{field}:":
                out.append(line)
                line = ""
            line += " " + piece
    out.append(line)
    return ("\r\n".join(out) + "\r\n").encode("ascii")
