"""Quoted-printable for generated text: what relays and mail apps decode is the text given,
whole or spliced from pieces encoded apart, and every line is one RFC 2045 allows."""

from __future__ import annotations

import binascii
import html
import re
from email import policy
from email.parser import BytesParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsletter.mail import qp
from newsletter.mail.message import LinkEncoder

# Hypothesis' own text mixed with what breaks quoted-printable: spaces and tabs before a
# line end, "=", bytes that need "=XX" (several per character), lines about 76 long.
_CHAR = st.one_of(st.characters(exclude_categories=("Cs",)),
                  st.sampled_from([" ", "\t", "=", "\n", "\r", "x", "é", "😀", "\x00", "\x7f"]))
TEXT = st.text(_CHAR, max_size=400)
# The per-recipient piece: mostly a token (a URL, an address: the fast path), any text too.
_URL_CHAR = st.sampled_from("abcxyz019=%&?:/.@-_~+#")
# "=" lands at every offset of a 75-column line: "=3D" must never be cut in two.
_EQUALS_AT_ANY_OFFSET = st.builds(lambda n, equals, tail: "a" * n + "=" * equals + tail,
                                  st.integers(68, 76) | st.integers(0, 160), st.integers(0, 4),
                                  st.text(_URL_CHAR, max_size=80))
VALUES = st.one_of(st.text(_URL_CHAR, min_size=1, max_size=250), _EQUALS_AT_ANY_OFFSET, TEXT)
SLOT = "\ue000SLOT\ue000"  # a private-use mark, never generated next to itself below
# One physical line: literal characters, "=XX" escapes, and a soft break's "=" at the end.
_LINE = re.compile(rb"(?:[!-<>-~ \t]|=[0-9A-F]{2})*=?")


def assert_well_formed(encoded: bytes) -> None:
    """Lines of at most 76 characters, CRLF only, printable ASCII, "=" only to escape or
    break, and no space or tab before a hard line end (relays strip it)."""
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", encoded) is None, "a bare CR or LF"
    for line in encoded.split(b"\r\n"):
        assert len(line) <= qp.MAX_LINE, line
        assert _LINE.fullmatch(line), line
        assert not line.endswith((b" ", b"\t")), line


def wire(text: str) -> bytes:
    """What a decoder should give back: the UTF-8 text, its line ends as CRLF."""
    return text.replace("\n", "\r\n").encode("utf-8")


def decoders_agree(encoded: bytes, text: str) -> None:
    """binascii's C decoder and the email package reading a text/plain part."""
    assert binascii.a2b_qp(encoded) == wire(text)
    part = BytesParser(policy=policy.default).parsebytes(
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded)
    assert part.get_payload(decode=True) == wire(text)
    assert part.defects == []


@settings(max_examples=300, deadline=None)
@given(TEXT)
@example("end \nnext\n")
@example("x" * 75 + "=")
@example("x" * 74 + "é")
def test_any_text_decodes_back_within_76_columns(text):
    encoded = qp.encode(text)
    assert_well_formed(encoded)
    decoders_agree(encoded, text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXT, _EQUALS_AT_ANY_OFFSET))
@example("end ")
@example("=" * 80)
@example("a" * 73 + "=b")
def test_a_soft_ending_piece_ends_at_a_line_boundary_and_decodes_back(text):
    encoded = qp.encode(text, soft_end=True)
    assert encoded.endswith(b"=\r\n")
    assert_well_formed(encoded)
    decoders_agree(encoded, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT.filter(lambda t: "\ue000" not in t), min_size=2, max_size=4), VALUES)
@example(["", ""], "a" * 73 + "=b")
@example(["a" * 73, "b"], "=" * 80)
@example(["", "\n"], "mailto:a@example.org?subject=x%20y&body=z")
@example(["x" * 75, " \n"], "a")
def test_values_spliced_between_pieces_decode_to_the_filled_text(parts, value):
    """The template is encoded once with slots, the value once, and the bytes joined."""
    pieces = qp.encode_pieces(SLOT.join(parts), SLOT)
    assert len(pieces) == len(parts)
    assert all(piece.endswith(b"=\r\n") for piece in pieces[:-1])
    spliced = qp.encode(value, soft_end=True).join(pieces)
    assert_well_formed(spliced)
    decoders_agree(spliced, value.join(parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(_URL_CHAR, max_size=300), TEXT, _EQUALS_AT_ANY_OFFSET),
       st.one_of(st.text(_URL_CHAR, max_size=160), TEXT, _EQUALS_AT_ANY_OFFSET),
       st.sampled_from([html.escape, str]))
@example("a" * 73 + "=b" + "c" * 74 + "=", "=", html.escape)
@example("with spaces & tabs\t" * 9, "a@b.example", str)
def test_a_link_whose_start_is_encoded_once_is_encoded_as_if_whole(start, tail, escape):
    """message.LinkEncoder: each subscriber's unsubscribe link shares a long start, whose
    lines are encoded once; every alignment of the tail against them gives the same bytes."""
    encoder = LinkEncoder(start, escape)
    assert encoder.encode(start + tail) == qp.encode(escape(start + tail), soft_end=True)
