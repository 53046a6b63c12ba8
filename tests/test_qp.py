"""Quoted-printable as a mail relay and a mail app see it: decodes to the text, no line over
76 characters, no bare space or tab before a line end, the slots spliced without re-encoding."""

from __future__ import annotations

import binascii
import random

import pytest

from newsletter.mail import qp

PIECES = [" ", "\t", "=", "a", "Z", ".", "é", "😀", "\x00", "~", "\x7f", "<", ">", "=3D", "x" * 9]


def random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 4)):
        length = rng.choice([0, 1, 2, 5, 70, 73, 74, 75, 76, 77, 78, 150, 300])
        lines.append("".join(rng.choice(PIECES) if rng.random() < 0.5 else "x"
                             for _ in range(length)))
    return "\n".join(lines) + rng.choice(["", "\n"])


def decoded(encoded: bytes) -> str:
    """Python's C decoder (binascii), which shares no code with ours."""
    return binascii.a2b_qp(encoded).decode("utf-8").replace("\r\n", "\n")


def assert_well_formed(encoded: bytes) -> None:
    for line in encoded.split(b"\r\n"):
        assert len(line) <= qp.MAX_LINE, line
        assert not line.endswith((b" ", b"\t")), line
        assert b"\n" not in line and b"\r" not in line
        assert all(32 <= byte < 127 or byte == 9 for byte in line), line


@pytest.mark.parametrize("seed", range(40))
def test_any_text_decodes_back_within_76_columns(seed):
    rng = random.Random(seed)
    for _ in range(200):
        text = random_text(rng)
        encoded = qp.encode(text)
        assert_well_formed(encoded)
        expected = text if text.endswith("\n") or not text else text + "\n"
        assert decoded(encoded + b"\r\n").rstrip("\n") == expected.rstrip("\n")


def test_lines_are_filled_before_breaking():
    """A long line costs as few physical lines as the 76-column limit allows."""
    encoded = qp.encode("word " * 100)
    physical = encoded.split(b"\r\n")
    assert all(len(line) == qp.MAX_LINE for line in physical[:-2])


def test_a_space_before_a_hard_line_end_is_encoded_before_a_soft_one_it_is_not():
    assert qp.encode("end \nnext\n") == b"end=20\r\nnext\r\n"
    assert qp.encode("end ", soft_end=True) == b"end =\r\n"


@pytest.mark.parametrize("seed", range(10))
def test_per_recipient_values_spliced_between_pieces_decode_to_the_filled_text(seed):
    rng = random.Random(seed)
    slot = "SLOT"
    for _ in range(100):
        parts = [random_text(rng) for _ in range(3)]
        value = rng.choice(["mailto:a@example.org?subject=x%20y&body=z", "=" * 80,
                            "https://example.org/" + "p" * rng.randint(0, 200)])
        pieces = qp.encode_pieces(slot.join(parts), slot)
        spliced = qp.encode(value, soft_end=True).join(pieces)
        assert_well_formed(spliced)
        expected = value.join(parts)
        assert decoded(spliced + b"\r\n").rstrip("\n") == expected.rstrip("\n")
