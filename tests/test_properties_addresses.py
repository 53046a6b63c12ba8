"""normalise_address on generated addresses: idempotent, the domain lower-cased and nothing
else changed, and either what email-validator returns or a refusal with a reason of ours."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsletter.source.fields import Invalid
from newsletter.subscribers import addresses
from newsletter.subscribers.addresses import normalise_address

LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1: octets before the @ a server must accept

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-"
# Letters a mail app may write in a domain: IDN (German, Greek, Japanese, Arabic), a
# full-width letter, the Kelvin sign (which folds to k), a combining mark, a zero width space.
DOMAIN_EXTRA = ["ü", "ß", "é", "α", "日本", "مصر", "ｅ", "\u212a", "e\u0301", "\u200b", "xn--",
                "--"]
LOCAL_EXTRA = ["é", "ü", "日本", "\u212a", "\u0301", ".", "..", '"', " ", "\\", "@", "=?", "?="]
NOISE = [" ", "\t", "\n", "\u00a0", "<", ">", ",", ";", "(", ")", "[", "]", "。", "．", "\x00",
         "\x7f", "🌿", "@", ".", "-"]

# Plain parts come up most (st.one_of picks a branch evenly, so they are listed twice):
# the fast path must meet them at every length.
_PLAIN_ATOM = st.text(st.sampled_from(PLAIN), min_size=1, max_size=20)
_ATOM = st.one_of(_PLAIN_ATOM, _PLAIN_ATOM,
                  st.text(st.sampled_from(ATEXT), min_size=1, max_size=20),
                  st.integers(60, 70).map(lambda n: "l" * n))
LOCALS = st.one_of(
    st.lists(_ATOM, min_size=1, max_size=4).map(".".join),
    st.lists(_ATOM, min_size=1, max_size=4).map(".".join),
    st.lists(_ATOM | st.sampled_from(LOCAL_EXTRA), min_size=1, max_size=5).map("".join),
    st.sampled_from(["postmaster", "Postmaster", "ABUSE", "info", "Info", '"a b"', '"ann"']),
)
_LDH = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?", fullmatch=True)
_LABEL = st.one_of(
    _LDH, _LDH, _LDH, st.integers(61, 64).map(lambda n: "d" * n),
    st.lists(st.sampled_from(list("abcXYZ019") + DOMAIN_EXTRA), min_size=1, max_size=6)
    .map("".join),
)
_ALPHA_TLD = st.from_regex(r"[A-Za-z]{2,8}", fullmatch=True)
_TLD = st.one_of(_ALPHA_TLD, _ALPHA_TLD,
                 st.sampled_from(["c", "COM", "de", "123", "com1", "xn--p1ai", "рф", "local",
                                  "onion", "test", "localhost", "invalid", "arpa"]))
DOMAINS = st.builds(lambda labels, tld: ".".join([*labels, tld]),
                    st.lists(_LABEL, min_size=1, max_size=4), _TLD)
STRUCTURED = st.builds(lambda local, domain: f"{local}@{domain}", LOCALS, DOMAINS)


@st.composite
def mutated(draw, address: st.SearchStrategy[str]) -> str:
    """An address with a few characters inserted, replaced or removed."""
    chars = list(draw(address))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(chars)))
        piece = draw(st.sampled_from(NOISE) | st.characters(exclude_categories=("Cs",)))
        action = draw(st.sampled_from(["insert", "replace", "delete"]))
        if action == "insert":
            chars.insert(at, piece)
        elif at < len(chars):
            chars[at:at + 1] = [piece] if action == "replace" else []
    return "".join(chars)


CANDIDATES = st.one_of(
    STRUCTURED, STRUCTURED, STRUCTURED.map(lambda a: f" {a}\n"), mutated(STRUCTURED),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)


def refusal(raw: str) -> str | None:
    try:
        normalise_address(raw)
    except Invalid as exc:
        return exc.message
    return None


def with_email_validator_only(raw: str) -> str:
    """What normalise_address says without its fast path, message and hint included."""
    candidate = raw.strip()
    if not candidate:
        raise Invalid("is empty", "remove the line or fill in the address")
    return addresses._validated(candidate)


def outcome(normalise, raw: str) -> str:
    try:
        return "ok " + normalise(raw)
    except Invalid as exc:
        return f"refused: {exc.message} / {exc.hint}"


@settings(max_examples=500, deadline=None)
@given(CANDIDATES)
@example("Ann.Lee+tag@Sub.Example.CO.UK")
@example("ann@MÜNCHEN.de")
@example("l" * 65 + "@example.com")
@example("l" * 64 + "@example.com")
@example("Info@Example.com")
def test_the_fast_path_says_exactly_what_email_validator_alone_says(raw):
    assert outcome(normalise_address, raw) == outcome(with_email_validator_only, raw)


@settings(max_examples=300, deadline=None)
@given(CANDIDATES)
@example('"ann"@Example.com')
@example("ann@xn--mnchen-3ya.de")
@example("ann@ｘ.com")
def test_an_accepted_address_is_email_validators_and_normalising_it_again_keeps_it(raw):
    try:
        ours = normalise_address(raw)
    except Invalid:
        return
    theirs = validate_email(raw.strip(), check_deliverability=False)
    assert ours == f"{theirs.local_part}@{theirs.ascii_domain.lower()}"
    assert ours.isascii() and "=?" not in ours and "?=" not in ours
    assert len(ours.rsplit("@", 1)[0].encode()) <= LOCAL_PART_MAX
    assert normalise_address(ours) == ours


@settings(max_examples=300, deadline=None)
@given(STRUCTURED | STRUCTURED.map(lambda a: f" {a}\n"))
@example("Ann.Lee@Sub.Example.CO.UK")
@example("POSTMASTER@Example.com")
@example("\u212a@0.c")
def test_only_the_domain_is_lower_cased_and_the_local_part_is_kept(raw):
    """Apart from the mailbox names RFC 2142 makes case-insensitive (postmaster, abuse...),
    which email-validator lower-cases, and Unicode normalisation (NFC)."""
    try:
        ours = normalise_address(raw)
    except Invalid:
        return
    local, domain = raw.strip().rsplit("@", 1)
    if local.startswith('"'):
        return  # email-validator drops quotes that are not needed: '"ann"' is 'ann'
    our_local, our_domain = ours.rsplit("@", 1)
    # email-validator applies NFC (RFC 6532 3.1) before anything: a Kelvin sign before the
    # @ is a K, so that address counts as ASCII and is kept.
    local = unicodedata.normalize("NFC", local)
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
        assert our_local == local.lower()
    else:
        assert our_local == local
    assert our_domain == our_domain.lower()
    if domain.isascii():
        assert our_domain == domain.lower()


@settings(max_examples=300, deadline=None)
@given(CANDIDATES)
@example("l" * 65 + "@example.com")
@example('"' + "l" * 63 + '"@example.com')
def test_a_refusal_is_email_validators_or_one_of_our_own_rules(raw):
    """Ours: over 64 octets before the @, a part that looks like an encoded word, or a local
    part that is not ASCII (SMTPUTF8, which drafts do not use)."""
    reason = refusal(raw)
    if reason is None or not raw.strip():
        return
    try:
        theirs = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return
    ascii_local = (theirs.ascii_email or theirs.normalized).rsplit("@", 1)[0]
    assert (len(ascii_local.encode()) > LOCAL_PART_MAX or theirs.ascii_email is None
            or "=?" in theirs.normalized or "?=" in theirs.normalized), (raw, reason)


@settings(max_examples=100, deadline=None)
@given(st.integers(LOCAL_PART_MAX + 1, 80), DOMAINS)
def test_a_local_part_over_64_octets_is_refused(length, domain):
    for local in ("l" * length, ".".join(["l" * (length // 2), "l" * (length - length // 2 - 1)])):
        reason = refusal(f"{local}@{domain}")
        assert reason is not None, f"{local}@{domain}"
