"""Email addresses: validated by email-validator (no DNS), normalised, compared ignoring case."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from ..fields import Invalid


def normalise_address(raw: str) -> str:
    """The address as it goes in a header: trimmed, domain lower-cased, IDN as punycode.

    Raises Invalid with the reason an editor can act on. Addresses whose local part
    is not ASCII are refused: they need SMTPUTF8, which drafts in mail apps don't use.
    """
    candidate = raw.strip()
    if not candidate:
        raise Invalid("is empty", "remove the line or fill in the address")
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
    return f"{local}@{domain.lower()}"


def address_key(address: str) -> str:
    """What makes two addresses the same subscriber: case is ignored throughout."""
    return address.lower()


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
