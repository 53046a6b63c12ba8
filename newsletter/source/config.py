"""newsletter.yaml -> typed settings, every bad key reported before stopping."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..errors import ConfigError, Problem
from . import fields as f
from .fields import FieldReader, Invalid
from .inputs import read_source
from .yamlsource import Key, load_yaml

CONFIG_FILE = "newsletter.yaml"
# Where `archive` writes the web pages that web_url() points at, unless told otherwise.
SITE_DIR = "site"

# A check across settings that a later stage owns (mail's: the unsubscribe link fits in a
# header). Passed in by whoever loads the config, since source may not import later stages.
# Given the settings read so far (None where one was invalid), it returns its problems as
# (key, message, hint); any problem refuses the config, reported with the others.
ConfigCheck = Callable[[dict[str, object]], list[tuple[Key, str, str]]]


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

    def web_url(self, issue_id: str) -> str:
        """Where an issue's web page is, once `archive` has written it and site/ is uploaded."""
        return f"{self.archive_url}{issue_id}/"


def load_config(root: Path, checks: Sequence[ConfigCheck] = ()) -> Config:
    """Read and validate `root/newsletter.yaml`; raise ConfigError listing every problem.

    `checks` run once every field is read: commands pass mail.mailto.CONFIG_CHECKS.
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


_TOP = ("name", "language", "site_url", "archive_url", "sender", "reply_to", "list_id", "signup",
        "cadence", "compose", "brand", "footer", "check")


def _read(r: FieldReader, path: Path, checks: Sequence[ConfigCheck]) -> Config | None:
    r.reject_unknown(_TOP)
    values = {
        "name": r.required("name", f.header_text(60)),
        "language": r.required("language", _language),
        "site_url": r.required("site_url", f.https_url),
        "archive_url": r.required("archive_url", _folder_url),
        "sender": _read_sender(r.section("sender")),
        "reply_to": r.required("reply_to", f.email_address),
        "list_id": _read_simple(r.section("list_id"), ListId, {
            "name": f.header_text(80, phrase=True), "id": _list_id}),
        "signup": _read_simple(r.section("signup"), Signup, {
            "subscribe_subject": f.header_text(120), "subscribe_body": f.text(1000, multiline=True),
            "unsubscribe_subject": f.header_text(120),
            "unsubscribe_body": f.text(1000, multiline=True)}),
        "cadence": _read_cadence(r.section("cadence")),
        "brand": _read_brand(r.section("brand")),
        "footer": _read_footer(r.section("footer")),
        "compose": _read_simple(r.section("compose"), Compose, {"max_chunks": f.positive_int}),
        "check": _read_check(r.section("check", required=False)),
    }
    for check in checks:
        found = check(values)
        for key, message, hint in found:
            r.fail(key, message, hint)
        if found:
            return None
    if any(value is None for value in values.values()):
        return None
    return Config(path=path, **values)


def _read_simple(r: FieldReader | None, cls: type, converters: dict) -> object | None:
    """Read a section whose keys map one to one onto the fields of `cls`."""
    if r is None:
        return None
    r.reject_unknown(converters)
    values = {key: r.required(key, convert) for key, convert in converters.items()}
    if any(value is None for value in values.values()):
        return None
    return cls(**values)


def _read_sender(r: FieldReader | None) -> Sender | None:
    return _read_simple(r, Sender, {"name": f.header_text(60), "email": f.email_address})


def _read_cadence(r: FieldReader | None) -> Cadence | None:
    cadence = _read_simple(r, Cadence, {"min_days": f.positive_int, "max_days": f.positive_int})
    if cadence is not None and cadence.min_days > cadence.max_days:
        r.fail(("max_days",), f"must be at least min_days ({cadence.min_days}), "
               f"got {cadence.max_days}", "the site promises 14 to 28 days")
        return None
    return cadence


def _read_brand(r: FieldReader | None) -> Brand | None:
    if r is None:
        return None
    r.reject_unknown(("font_stack", "heading_font_stack", "light", "dark"))
    palette = {field.name: f.colour for field in fields(Palette)}
    values = {
        "font_stack": r.required("font_stack", _font_stack),
        "heading_font_stack": r.required("heading_font_stack", _font_stack),
        "light": _read_simple(r.section("light"), Palette, palette),
        "dark": _read_simple(r.section("dark"), Palette, palette),
    }
    if any(value is None for value in values.values()):
        return None
    return Brand(**values)


def _read_footer(r: FieldReader | None) -> Footer | None:
    if r is None:
        return None
    r.reject_unknown(("crisis_intro", "crisis_lines", "helpline_directory", "disclaimer",
                      "why_you_get_this"))
    lines = []
    raw_lines = r.data.get("crisis_lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        r.fail(("crisis_lines",), "must list at least one crisis line",
               "every email must carry the crisis lines; see README")
    else:
        for index, item in enumerate(raw_lines):
            line_reader = FieldReader(r.doc, r.problems, r.prefix + ("crisis_lines", index), item)
            line = _read_simple(line_reader, CrisisLine, {
                "label": f.text(40), "where": f.text(60), "href": _phone_href})
            lines.append(line)
    values = {
        "crisis_intro": r.required("crisis_intro", f.text(200)),
        "crisis_lines": tuple(lines) if lines and None not in lines else None,
        "helpline_directory": _read_simple(r.section("helpline_directory"), Link,
                                           {"label": f.text(80), "url": f.https_url}),
        "disclaimer": r.required("disclaimer", f.text(500)),
        "why_you_get_this": r.required("why_you_get_this", f.text(300)),
    }
    if any(value is None for value in values.values()):
        return None
    return Footer(**values)


_language = f.matching(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", "a language tag like en or en-GB",
                       "en", 20)
_list_id = f.matching(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "a domain-like id (RFC 2919)",
                      "newsletter.mindshape.io")
_phone_href = f.matching(r"tel:\+?[0-9]+|sms:\+?[0-9]+(\?&?body=[A-Za-z0-9%]+)?",
                         "a tel: or sms: link with digits only",
                         "tel:116123, or sms:741741?&body=HOME to pre-fill a word", 100)


def _read_check(r: FieldReader | None) -> CheckSettings:
    if r is None:
        return CheckSettings()
    r.reject_unknown(("accepted_css",))
    raw = r.data.get("accepted_css") or {}
    if not isinstance(raw, dict):
        r.fail(("accepted_css",), "must map a caniemail feature to the reason it is acceptable",
               "for example  css-border-radius: square corners in Outlook are fine")
        return CheckSettings()
    accepted = {}
    for slug, reason in raw.items():
        if not re.fullmatch(r"[a-z0-9-]+", str(slug)) or not isinstance(reason, str) \
                or not reason.strip():
            r.fail(("accepted_css", str(slug)), "needs a caniemail feature name and a reason",
                   "for example  css-border-radius: square corners in Outlook are fine")
            continue
        accepted[str(slug)] = reason.strip()
    return CheckSettings(accepted)


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
