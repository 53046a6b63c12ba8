"""newsletter.yaml's optional `smtp:` section: where `emit --mode smtp` submits, and how fast.

Declared here, in mail/, not in emit/: every module that loads newsletter.yaml must import
every declaration (tests/test_config_sections.py), and checks/ loads it, which may not
import emit/. The password is never a key: it comes only from NEWSLETTER_SMTP_PASSWORD.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..source import fields as f
from ..source.config import Config
from ..source.schema import Section, optional, required
from ..source.sections import declare_section

SECTION = "smtp"
SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# Safe for a personal account (Gmail, Fastmail, iCloud allow more): one connection, a
# message every 3 s, and a new session before providers that cut at about 20 (Yahoo) do.
DEFAULTS = {"per_minute": 20, "per_day": 500, "connections": 1, "messages_per_connection": 20}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    username: str | None
    per_minute: int
    per_day: int
    connections: int
    messages_per_connection: int


def smtp_settings(config: Config) -> SmtpSettings | None:
    """The project's smtp: section, or None when newsletter.yaml has none."""
    return config.sections.get(SECTION)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _build(*, port: int | None, security: str, **values: Any) -> SmtpSettings:
    return SmtpSettings(port=port or DEFAULT_PORTS[security], security=security, **values)


def _plain_text_only_on_loopback(values: dict[str, Any]) -> list:
    if values["security"] != "none":
        return []
    if not is_loopback(values["host"]):
        return [(("security",), f"none (no TLS) is allowed only for a server on this computer "
                 f"(localhost, 127.0.0.1), not {values['host']!r}",
                 "use starttls (port 587) or tls (port 465)")]
    if values["username"]:
        return [(("username",), "is set with security none: the password would cross the "
                 "connection unencrypted, so it is never sent",
                 "remove username, or use starttls or tls")]
    return []


_host = f.matching(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]",
                   "a host name or address", "smtp.fastmail.com", 253)


def _port(value: Any) -> int:
    port = f.positive_int(value)
    if port > 65535:
        raise f.Invalid(f"must be a port number from 1 to 65535, got {port}",
                        "587 for starttls, 465 for tls")
    return port


SMTP_SECTION = Section({
    "host": required(_host),
    "port": optional(_port),
    "security": optional(f.choice(SECURITIES), "starttls"),
    "username": optional(f.text(320)),
    **{key: optional(f.positive_int, default) for key, default in DEFAULTS.items()},
}, _build, checks=(_plain_text_only_on_loopback,), required=False)

declare_section(SECTION, SMTP_SECTION, owner=__name__)
