"""normalise_address: its fast path for plain addresses says exactly what email-validator says."""

from __future__ import annotations

import random

import pytest

from newsletter.source.fields import Invalid
from newsletter.subscribers import addresses
from newsletter.subscribers.addresses import normalise_address

ATOM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-"
LDH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
# What near-plain addresses get wrong, or need email-validator for.
NOISE = [".", "..", "-", "--", "@", " ", "\t", "\n", '"', "\\", "[", "]", "<", ">", "(", ")",
         ",", ";", ":", "=", "?", "=?", "!", "#", "$", "%", "&", "'", "*", "/", "^", "`", "{",
         "|", "}", "~", "é", "ü", "ß", "日本", "\u212a", "\u0301", "\u200b", "\u202e", "。",
         "．", "ｅ", "xn--", "XN--", "0", "9", "_", "+", "\x00", "\x7f", "🌿"]
TRICKY = ["a@[1.2.3.4]", "a@[IPv6:::1]", '"a"@example.com', '"a b"@example.com',
          '"a@b"@example.com', "Ann <ann@example.com>", "<ann@example.com>", "ann@example",
          "ann@localhost", "ann@x.local", "ann@x.LOCAL", "ann@example.test", "ann@test",
          "ann@a.onion", "ann@1.2.3.4.in-addr.arpa", "ann@invalid", "ann@x.invalid",
          "ann@x.notlocal", "ann@x.localhost", "ann@x.testing", "Info@example.com",
          "POSTMASTER@Example.com", "abuse@x.org", "noc@x.org", "ann@xn--mnchen-3ya.de",
          "ann@xn--zz.de", "ann@ab--cd.com", "ann@a--b.com", "ann@abc--d.com",
          "ann@münchen.de", "zoë@example.com", "ann@b.123", "ann@b.com1", "ann@b.1com",
          "ann@b.c", "a@b.co", ".ann@x.com", "ann.@x.com", "an..n@x.com", "ann@.x.com",
          "ann@x.com.", "ann@x..com", "ann@-x.com", "ann@x-.com", "ann@x.-com", "ann@x.com-",
          "@x.com", "ann@", "ann", "", " ", "ann@@x.com", "a@b@x.com", " ann@x.com ",
          "\tann@x.com\n", "ann @x.com", "ann@x .com", "=?utf-8?q?a?=@x.com", "a=?b@x.com",
          "ann\u200b@x.com", "ann@x\u200b.com", "ann@ｘ.com", "ann@x。com", "ann@x．com",
          "ann@X.COM", "Ann.Lee+tag@Sub.Example.CO.UK"]


def plain_address(generator: random.Random) -> str:
    local = ".".join(_word(generator, ATOM, 1, 12) for _ in range(generator.randint(1, 3)))
    labels = [_label(generator) for _ in range(generator.randint(1, 4))]
    tld = "".join(generator.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                    k=generator.choice([1, 2, 3, 6, 63, 64])))
    return f"{local}@{'.'.join(labels)}.{tld}"


def long_address(generator: random.Random) -> str:
    """Around the limits: 64 before the @, 63 a label, 253 the domain, 254 in all."""
    local = "l" * generator.choice([1, 63, 64, 65, 70])
    labels = ["d" * generator.choice([61, 62, 63, 64]) for _ in range(generator.randint(1, 4))]
    address = f"{local}@{'.'.join(labels)}.com"
    cut = generator.choice([0, 0, len(address) - 254, len(address) - 255, len(address) - 253])
    if cut > 0 and len(labels[0]) > cut:
        address = address.replace(labels[0], labels[0][cut:], 1)
    return address


def mutated(generator: random.Random, address: str) -> str:
    """A plain address with a few characters inserted, replaced or removed anywhere."""
    chars = list(address)
    for _ in range(generator.randint(1, 3)):
        at = generator.randrange(len(chars) + 1)
        action = generator.choice(("insert", "replace", "delete", "case"))
        if action == "insert":
            chars.insert(at, generator.choice(NOISE))
        elif at < len(chars) and action == "replace":
            chars[at] = generator.choice(NOISE)
        elif at < len(chars) and action == "delete":
            del chars[at]
        elif at < len(chars):
            chars[at] = chars[at].swapcase()
    return "".join(chars)


def _label(generator: random.Random) -> str:
    length = generator.choice([1, 2, 3, 5, 10, 61, 62, 63, 64])
    return _word(generator, LDH, length, length)


def _word(generator: random.Random, alphabet: str, shortest: int, longest: int) -> str:
    return "".join(generator.choices(alphabet, k=generator.randint(shortest, longest)))


def generated(count: int, seed: int = 5321) -> list[str]:
    generator = random.Random(seed)
    out = list(TRICKY)
    while len(out) < count:
        kind = generator.random()
        if kind < 0.35:
            out.append(plain_address(generator))
        elif kind < 0.45:
            out.append(long_address(generator))
        elif kind < 0.55:
            out.append(mutated(generator, generator.choice(TRICKY) or "a@b.com"))
        else:
            out.append(mutated(generator, plain_address(generator)))
    return out


def outcome(normalise, raw: str) -> str:
    try:
        return "ok " + normalise(raw)
    except Invalid as exc:
        return f"refused: {exc.message} / {exc.hint}"


def email_validator_alone(raw: str) -> str:
    """What normalise_address returned before it had a fast path."""
    candidate = raw.strip()
    if not candidate:
        raise Invalid("is empty", "remove the line or fill in the address")
    return addresses._validated(candidate)


def test_the_fast_path_agrees_with_email_validator_on_every_generated_address():
    candidates = generated(30_000)
    theirs = [outcome(email_validator_alone, raw) for raw in candidates]
    differ = [(raw, ours, expected) for raw, expected in zip(candidates, theirs, strict=True)
              if (ours := outcome(normalise_address, raw)) != expected]
    assert differ == []
    fast = sum(addresses._plain(raw.strip()) is not None for raw in candidates)
    slow = sum(expected.startswith("ok ") for expected in theirs) - fast
    assert fast > 8000 and slow > 1000  # both paths well exercised


@pytest.mark.parametrize(("raw", "expected"), [
    ("Ann.Lee+tag@Sub.Example.CO.UK", "Ann.Lee+tag@sub.example.co.uk"),
    (" reader1@example.org\n", "reader1@example.org"),
    ("Info@Example.com", "info@example.com"),
    ("ann@MÜNCHEN.de", "ann@xn--mnchen-3ya.de"),
])
def test_addresses_are_normalised_the_same_way_on_both_paths(raw, expected):
    assert normalise_address(raw) == expected


@pytest.mark.parametrize("domain", ["example.com", "MÜNCHEN.de", "xn--mnchen-3ya.de"])
def test_a_local_part_over_64_characters_is_refused_on_both_paths(domain):
    """RFC 5321 4.5.3.1.1: 64 at most. email-validator lets 65 through unless strict."""
    assert normalise_address("a" * 64 + "@" + domain).startswith("a" * 64 + "@")
    with pytest.raises(Invalid, match=r"has 65 characters before the @, more than the 64 "
                                      r"mail servers must accept \(RFC 5321\)"):
        normalise_address("b" * 65 + "@" + domain)
