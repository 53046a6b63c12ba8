"""newsletter.yaml -> typed settings, every bad key reported before stopping.

The core sections are declared here, as tables (schema.py); a later stage declares its own
section and cross-section checks in its own module (sections.py says how, and what keeps one
from being missed). `Config` has a field per core section and `sections` for the others.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..errors import ConfigError, Problem
from . import fields as f
from . import sections
from .fields import FieldReader, Invalid
from .inputs import read_source
from .schema import Check, Custom, ListOf, Section, optional, required, run_checks
from .yamlsource import load_yaml

CONFIG_FILE = "newsletter.yaml"
# Where `archive` writes the web pages that web_url() points at, unless told otherwise.
SITE_DIR = "site"

# A check across sections (mail's: the unsubscribe link fits in a header), declared with
# sections.declare_check. Given the top-level values (None where one is invalid), it returns
# its problems as (key, message, hint); any problem refuses the config, reported with the others.
ConfigCheck = Check


@dataclass(frozen=True)
class Sender:
    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]


@dataclass(frozen=True)
class ListId:
    name: str
    id: str


@dataclass(frozen=True)
class Signup:
    subscribe_subject: str
    subscribe_body: str
    unsubscribe_subject: str
    unsubscribe_body: str
    # The authserv-ids of the signup mailbox provider's own border servers (RFC 8601):
    # only their Authentication-Results count (subscribers/authentication.py). None: signups
    # are not authenticated.
    authserv_ids: tuple[str, ...] = ()
    start: dt.date | None = None  # no signup can be older: an earlier Date is held


@dataclass(frozen=True)
class Cadence:
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Palette:
    background: str
    surface: str
    text: str
    muted: str
    accent: str
    accent_text: str
    warning_background: str
    warning_text: str
    border: str


@dataclass(frozen=True)
class Brand:
    font_stack: str
    heading_font_stack: str
    light: Palette
    dark: Palette


@dataclass(frozen=True)
class CrisisLine:
    label: str
    where: str
    href: str | None


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Footer:
    crisis_intro: str
    crisis_lines: tuple[CrisisLine, ...]
    helpline_directory: Link
    disclaimer: str
    why_you_get_this: str


@dataclass(frozen=True)
class Compose:
    max_chunks: int  # most chunks `new` proposes for an issue


@dataclass(frozen=True)
class CheckSettings:
    # caniemail feature slug -> why its gaps are acceptable in our templates
    accepted_css: dict[str, str] = field(default_factory=dict)
    # a research piece's `reviewed` date older than this, before the issue's date, is a warning
    review_months: int = 12


@dataclass(frozen=True)
class Config:
    """newsletter.yaml, validated. `web_url(issue_id)` is where an issue is on the web."""

    path: Path
    name: str
    language: str
    site_url: str
    archive_url: str
    sender: Sender
    reply_to: str
    list_id: ListId
    signup: Signup
    cadence: Cadence
    brand: Brand
    footer: Footer
    compose: Compose
    check: CheckSettings
    # The sections later stages declare, by name: a value, or None for an optional one left out.
    sections: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def web_url(self, issue_id: str) -> str:
        """Where an issue's web page is, once `archive` has written it and site/ is uploaded."""
        return f"{self.archive_url}{issue_id}/"


def load_config(root: Path, checks: Sequence[ConfigCheck] = ()) -> Config:
    """Read and validate `root/newsletter.yaml`; raise ConfigError listing every problem.

    `checks`: kept for the callers that still pass mail.mailto.CONFIG_CHECKS; a check
    declared with sections.declare_check runs anyway, so passing it is a no-op. Only a
    check that is not declared is run from here, as before.
    """
    path = root / CONFIG_FILE
    if not path.exists():
        raise ConfigError([Problem(path, None, None, "not found",
                                   "run from the project folder, or pass --project DIR")])
    problems: list[Problem] = []
    source = read_source(path, problems)
    if source is None:
        raise ConfigError(problems)
    doc, yaml_problems = load_yaml(source, path)
    problems += yaml_problems
    if doc is None:
        raise ConfigError(problems)
    config = _read(FieldReader(doc, problems), path, checks)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def site_host(root: Path) -> str | None:
    """The site's host from newsletter.yaml even when other keys are wrong.

    Lets image hosts be checked in the same run that reports the config's problems.
    """
    try:
        data = yaml.safe_load((root / CONFIG_FILE).read_text(encoding="utf-8"))
        return urlsplit(f.https_url(data["site_url"])).hostname
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, TypeError, KeyError, Invalid):
        return None


def _read(r: FieldReader, path: Path, extra_checks: Sequence[ConfigCheck]) -> Config | None:
    top = Section({name: declared.entry for name, declared in sections.in_order(__name__)})
    values, valid = top.read_keys(r)
    declared = {declared.check for declared in sections.CHECKS.values()}
    checks = sections.checks_for(values) + [c for c in extra_checks if c not in declared]
    if run_checks(r, checks, values) or not valid:
        return None
    core = {name for name, declared in sections.SECTIONS.items() if declared.owner == __name__}
    return Config(path=path, **{name: values[name] for name in core},
                  sections={name: value for name, value in values.items() if name not in core})


def _cadence_order(values: dict[str, Any]) -> list:
    if values["min_days"] <= values["max_days"]:
        return []
    return [(("max_days",), f"must be at least min_days ({values['min_days']}), "
             f"got {values['max_days']}", "the site promises 14 to 28 days")]


def _accepted_css(r: FieldReader, key: str) -> dict[str, str]:
    """caniemail feature slug -> why its gaps are acceptable; an empty `accepted_css:` is none."""
    raw = r.data.get(key) or {}
    if not isinstance(raw, dict):
        r.fail((key,), "must map a caniemail feature to the reason it is acceptable",
               "for example  css-border-radius: square corners in Outlook are fine")
        return {}
    accepted = {}
    for slug, reason in raw.items():
        if not re.fullmatch(r"[a-z0-9-]+", str(slug)) or not isinstance(reason, str) \
                or not reason.strip():
            r.fail((key, str(slug)), "needs a caniemail feature name and a reason",
                   "for example  css-border-radius: square corners in Outlook are fine")
            continue
        accepted[str(slug)] = reason.strip()
    return accepted


def _folder_url(value: object) -> str:
    value = f.https_url(value)
    if not value.endswith("/") or "?" in value or "#" in value:
        raise Invalid(f"must be a folder address ending in '/', got {value!r}",
                      "for example https://mindshape.io/newsletter/")
    return value


def _font_stack(value: object) -> str:
    value = f.text(300)(value)
    if any(c in value for c in "<>;{}\\") or "url(" in value.lower():
        raise Invalid("may list font names only", "for example: Georgia, 'Times New Roman', serif")
    return value


_language = f.matching(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", "a language tag like en or en-GB",
                       "en", 20)
_list_id = f.matching(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "a domain-like id (RFC 2919)",
                      "newsletter.mindshape.io")
_phone_href = f.matching(r"tel:\+?[0-9]+|sms:\+?[0-9]+(\?&?body=[A-Za-z0-9%]+)?",
                         "a tel: or sms: link with digits only",
                         "tel:116123, or sms:741741?&body=HOME to pre-fill a word", 100)
_authserv_id = f.matching(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "a host name (an authserv-id)",
                          "mx.google.com", 255)


def _authserv_ids(value: object) -> tuple[str, ...]:
    ids = f.text_list(value)
    for number, item in enumerate(ids, 1):
        try:
            _authserv_id(item)
        except Invalid as exc:
            raise Invalid(f"item {number} {exc.message}", exc.hint) from None
    return tuple(item.lower() for item in ids)


_palette = Section({field.name: required(f.colour) for field in fields(Palette)}, Palette)

# newsletter.yaml's core keys, in the order the file has them: the order they are read in
# and listed in the unknown-key hint. Later stages' sections follow (sections.py).
_CORE = {
    "name": required(f.header_text(60)),
    "language": required(_language),
    "site_url": required(f.https_url),
    "archive_url": required(_folder_url),
    "sender": Section({"name": required(f.header_text(60)),
                       "email": required(f.email_address)}, Sender),
    "reply_to": required(f.email_address),
    "list_id": Section({"name": required(f.header_text(80, phrase=True)),
                        "id": required(_list_id)}, ListId),
    "signup": Section({"subscribe_subject": required(f.header_text(120)),
                       "subscribe_body": required(f.text(1000, multiline=True)),
                       "unsubscribe_subject": required(f.header_text(120)),
                       "unsubscribe_body": required(f.text(1000, multiline=True)),
                       "authserv_ids": optional(_authserv_ids, ()),
                       "start": optional(f.iso_date)}, Signup),
    "cadence": Section({"min_days": required(f.positive_int),
                        "max_days": required(f.positive_int)}, Cadence,
                       checks=(_cadence_order,)),
    "compose": Section({"max_chunks": required(f.positive_int)}, Compose),
    "brand": Section({"font_stack": required(_font_stack),
                      "heading_font_stack": required(_font_stack),
                      "light": _palette, "dark": _palette}, Brand),
    "footer": Section({
        "crisis_intro": required(f.text(200)),
        "crisis_lines": ListOf(Section({"label": required(f.text(40)),
                                        "where": required(f.text(60)),
                                        "href": required(_phone_href)}, CrisisLine),
                               "must list at least one crisis line",
                               "every email must carry the crisis lines; see README"),
        "helpline_directory": Section({"label": required(f.text(80)),
                                       "url": required(f.https_url)}, Link),
        "disclaimer": required(f.text(500)),
        "why_you_get_this": required(f.text(300)),
    }, Footer),
    "check": Section({"accepted_css": Custom(_accepted_css),
                      "review_months": optional(f.positive_int, 12)}, CheckSettings,
                     required=False, default=CheckSettings()),
}
for _name, _entry in _CORE.items():
    sections.declare_section(_name, _entry, owner=__name__)
