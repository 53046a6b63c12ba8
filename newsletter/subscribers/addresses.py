"""Email addresses: validated by email-validator (no DNS), normalised, compared ignoring case."""

from __future__ import annotations

import re

import email_validator
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from ..source.fields import Invalid

# Most addresses on a list: a dot-atom of letters, digits and _+- before the @, then
# letters/digits/hyphen labels (no hyphen at either end) and an alphabetic TLD.
_PLAIN = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
                    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{1,63})")
LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1
_SPECIAL_USE = tuple(f".{name}" for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)


def normalise_address(raw: str) -> str:
    """The address as it goes in a header: trimmed, domain lower-cased, IDN as punycode.

    Raises Invalid with the reason an editor can act on. Addresses whose local part
    is not ASCII are refused: they need SMTPUTF8, which drafts in mail apps don't use.
    """
    candidate = raw.strip()
    if not candidate:
        raise Invalid("is empty", "remove the line or fill in the address")
    return _plain(candidate) or _validated(candidate)


def _plain(candidate: str) -> str | None:
    """The normalised address when it is plain, as email-validator would return it (25 µs
    an address there); None for anything it must look at."""
    match = _PLAIN.fullmatch(candidate)
    # Over 254 in all, or over 64 before the @: _validated words the refusal.
    if match is None or len(candidate) > 254 or len(match[1]) > LOCAL_PART_MAX:
        return None
    local, domain = match[1], match[2].lower()
    if "--" in domain or local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES or \
            _special_use(domain):
        return None  # Punycode or R-LDH labels, postmaster@..., example.local
    return f"{local}@{domain}"


def _special_use(domain: str) -> bool:
    """Refused by email-validator: localhost, x.local, y.onion..."""
    return ("." + domain).endswith(_SPECIAL_USE)


def _validated(candidate: str) -> str:
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"{_shown(candidate)} is not a valid address: {exc}",
                      "fix the typo or remove the line") from None
    if "=?" in result.normalized or "?=" in result.normalized:
        raise Invalid(f"{_shown(candidate)} looks like an encoded mail header word (=?...?=)",
                      "mail programs may decode it into another address; remove the row")
    if result.ascii_email is None:
        raise Invalid(f"{_shown(candidate)} has non-ASCII letters before the @",
                      "mail apps cannot address it from a draft; ask for another address")
    local, domain = result.ascii_email.rsplit("@", 1)
    if len(local) > LOCAL_PART_MAX:
        # email-validator lets a longer one through unless strict (which refuses more).
        raise Invalid(f"{_shown(candidate)} has {len(local)} characters before the @, more "
                      f"than the {LOCAL_PART_MAX} mail servers must accept (RFC 5321)",
                      "fix the typo or ask for a shorter address")
    return f"{local}@{domain.lower()}"


def address_key(address: str) -> str:
    """What makes two addresses the same subscriber: case is ignored throughout."""
    return address.lower()


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
