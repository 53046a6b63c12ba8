"""Quoted-printable encoding (RFC 2045) in pieces that can be joined, for splicing per recipient.

A rendered part is encoded once, split at the slots where per-recipient text goes;
each piece ends at a line boundary (a real line break or a soft '=' break), so
the encoded recipient text can be dropped in between without re-encoding the rest
and without ever making a line longer than 76 characters.
"""

from __future__ import annotations

import re

MAX_LINE = 76
# Bytes written as "=XX": all but printable ASCII (without "=") and the space and tab.
_UNSAFE = re.compile(rb"[^!-<>-~ \t]")
_TOKEN = re.compile(r"[!-~]+")  # printable ASCII without spaces: a URL, an address


def encode(text: str, *, soft_end: bool = False) -> bytes:
    """Encode `text` (lines ending in "\\n") as quoted-printable with CRLF line ends.

    With `soft_end`, the result ends in a soft line break ("=\\r\\n"), so whatever
    encoded text is appended starts a fresh line and decodes as a continuation.
    """
    if soft_end and _TOKEN.fullmatch(text):
        return _encode_token(text)
    lines = text.split("\n")
    out = bytearray()
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if last and not line and not soft_end:
            break  # text ended with "\n": nothing follows the last line break
        out += _encode_line(line.encode("utf-8"), soft_end=last and soft_end)
        out += b"=\r\n" if last and soft_end else b"" if last else b"\r\n"
    return bytes(out)


def _encode_token(text: str) -> bytes:
    """The fast path for per-recipient values: only "=" needs encoding; lines of at most
    75 characters plus the soft break, never splitting an "=3D"."""
    encoded = text.replace("=", "=3D")
    out = bytearray()
    start = 0
    while start < len(encoded):
        end = min(start + MAX_LINE - 1, len(encoded))
        # Do not cut an "=3D" in two: step back to before its "=".
        cut = encoded.rfind("=", max(start, end - 2), end)
        if cut != -1 and end < len(encoded) and cut > end - 3:
            end = cut
        out += encoded[start:end].encode("ascii") + b"=\r\n"
        start = end
    return bytes(out)


def _encode_line(data: bytes, *, soft_end: bool) -> bytes:
    """One logical line, wrapped with soft breaks so no physical line exceeds 76 characters."""
    encoded = _UNSAFE.sub(_escape, data)
    if not soft_end and data[-1:] in (b" ", b"\t"):
        # A space or tab before a hard break is encoded, since a mail relay may strip it;
        # before a soft break it is fine ("a =").
        encoded = encoded[:-1] + b"=%02X" % data[-1]
    # Room for a soft break's "=" on every physical line but a hard-ended last one.
    last_room = MAX_LINE - 1 if soft_end else MAX_LINE
    out = bytearray()
    start = 0
    while len(encoded) - start > last_room:
        end = start + MAX_LINE - 1
        # Do not cut an "=XX" in two: break before its "=" ("=" only starts escapes here).
        cut = encoded.find(b"=", end - 2, end)
        if cut != -1:
            end = cut
        out += encoded[start:end] + b"=\r\n"
        start = end
    out += encoded[start:]
    return bytes(out)


def _escape(match: re.Match[bytes]) -> bytes:
    return b"=%02X" % match[0][0]


def encode_pieces(text: str, slot: str) -> list[bytes]:
    """`text` split at every `slot`, each piece encoded to end on a line boundary.

    Join them with `encode(value, soft_end=True)` of the per-recipient value in
    between: the result decodes to `text` with the slots replaced.
    """
    parts = text.split(slot)
    return [encode(part, soft_end=index < len(parts) - 1) for index, part in enumerate(parts)]
