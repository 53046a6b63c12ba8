"""Dot-stuffing a message given as pieces, the long ones stuffed once and reused, is the same
as RFC 5321 4.5.2 applied to the whole message (the regex it replaced)."""

from __future__ import annotations

import random
import re

from newsletter.emit.smtp_session import dot_stuffed


def by_the_rfc(message: bytes) -> bytes:
    return re.sub(rb"^\.", b"..", message, flags=re.MULTILINE) + b".\r\n"


def test_pieces_stuffed_alone_and_from_the_cache_equal_the_whole_message_stuffed():
    rng = random.Random(4502)
    alphabet = [b".", b"\r\n", b"\n", b"\r", b"a", b"=", b" ", b".."]

    def text(length: int) -> bytes:
        return b"".join(rng.choice(alphabet) for _ in range(length))

    shared = [text(rng.choice((2048, 3000, 5000))) for _ in range(6)]  # reused: cached
    shared += [b"." + shared[0], shared[1] + b"\n"]
    for _ in range(3000):
        pieces = [rng.choice(shared) if rng.random() < 0.5 else text(rng.randrange(0, 40))
                  for _ in range(rng.randrange(0, 8))]
        assert dot_stuffed(pieces) == by_the_rfc(b"".join(pieces)), pieces


def test_a_message_of_one_piece_and_edge_cases():
    assert dot_stuffed([b".\r\n..\r\n.a\r\nb.\r\n"]) == b"..\r\n...\r\n..a\r\nb.\r\n.\r\n"
    assert dot_stuffed([b"a\r\n", b"", b".b\r\n"]) == b"a\r\n..b\r\n.\r\n"
    assert dot_stuffed([b"a\r", b"\n.b\r\n"]) == b"a\r\n..b\r\n.\r\n"
    assert dot_stuffed([]) == b".\r\n"
