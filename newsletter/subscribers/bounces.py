"""Delivery reports (RFC 3464): which of our addresses failed, and nothing about delays."""

from __future__ import annotations

import base64
import quopri
import re
from email import policy
from email.message import EmailMessage

from ..source.fields import Invalid
from .addresses import normalise_address

_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def is_delivery_report(message: EmailMessage) -> bool:
    return (message.get_content_type() == "multipart/report"
            and message.get_param("report-type", "").lower() in (
                "delivery-status", "global-delivery-status"))


def failed_recipients(message: EmailMessage) -> tuple[str, ...]:
    """RFC 3464: the recipients whose Action is 'failed' (delays are not bounces).

    Original-Recipient is the address as we sent it; Final-Recipient may be where a
    forward took it, so it is used only when the original is not given.
    """
    failed = []
    for part in message.walk():
        if part.get_content_type() not in _STATUS_TYPES:
            continue
        for block in _status_blocks(part):
            action = re.sub(r"\([^)]*\)", "", block.get("action", "")).strip().lower()
            if action != "failed":
                continue
            for field_name in ("original-recipient", "final-recipient"):
                recipient = block.get(field_name, "")
                if ";" not in recipient:
                    continue
                try:
                    failed.append(normalise_address(
                        recipient.split(";", 1)[1].strip().strip("<>")))
                    break
                except Invalid:
                    continue
    return tuple(dict.fromkeys(failed))


def _status_blocks(part: EmailMessage) -> list[dict[str, str]]:
    """The per-message and per-recipient field blocks of a delivery-status part."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    encoded = encoding in ("base64", "quoted-printable")
    payload = part.get_payload()
    if (isinstance(payload, list) and not encoded
            and part.get_content_type() == "message/delivery-status"):
        # The email package parses message/delivery-status into header blocks.
        return [{k.lower(): str(v) for k, v in block.items()} for block in payload]
    if isinstance(payload, list):
        # Parsed as a message before being decoded (message/global-delivery-status is
        # taken for one message of headers and a body): back to the text it was.
        raw = part.as_bytes(policy=policy.default.clone(linesep="\n")).split(b"\n\n", 1)[-1]
        if encoding == "base64":
            raw = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw))
        elif encoding == "quoted-printable":
            raw = quopri.decodestring(raw)
        text = raw.decode("utf-8", "replace")
    else:
        decoded = part.get_payload(decode=True)
        text = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else str(payload)
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = dict(re.findall(r"(?m)^([A-Za-z-]+):\s*(.*?)\s*$", chunk))
        blocks.append({k.lower(): v for k, v in fields.items()})
    return blocks
