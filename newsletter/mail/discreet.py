"""newsletter.yaml's optional `discreet:` section: what a subscriber on a shared device sees.

Someone reading about anxious attachment on a family laptop may not want the newsletter's
name or its subject in a notification others see (domestic-violence email-safety guides warn
about exactly this). A subscriber who asked for discreet mail gets the same body under a
neutral From name, subject, List-Id phrase and preheader; the sender's address and domain stay
as they are (the discreet signup text says so). Without this section there is no discreet
signup, and an emit to a subscriber who asked for it is refused rather than sent plainly.

Declared in mail/ because the message engine, the signup intake and `check` all read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.sandbox

from ..errors import NewsletterError
from ..render.inbox import DiscreetVariant
from ..source import fields as f
from ..source.config import Config
from ..source.schema import Section, optional, required
from ..source.sections import declare_check, declare_section
from .inbox_words import ALARMING, REVEALING_STEMS, word_pattern
from .mailto import mailto_link

SECTION = "discreet"
DEFAULT_SUBSCRIBE_BODY = "Please add me, and send me the discreet version."
DEFAULT_SWITCH_BODY = "Please switch my emails between the discreet and the usual version."
DEFAULT_WELCOME_SUBJECT = "Welcome"


@dataclass(frozen=True)
class DiscreetSettings:
    sender_name: str
    subject: str  # a Jinja string over `issue` (number, date, id)
    preheader: str
    subscribe_subject: str
    subscribe_body: str
    switch_subject: str
    switch_body: str
    welcome_subject: str
    words: tuple[str, ...]  # the project's own words never to show, besides the built-in ones


class DiscreetError(NewsletterError):
    """The discreet subject template cannot be rendered for an issue."""


@dataclass(frozen=True)
class IssueFacts:
    """What the subject template may use: nothing that could say what the issue is about."""

    number: int
    date: dt.date
    id: str


# Not autoescaped: the result is a mail header, not HTML (the HTML <title> escapes it as
# data). The sandbox and StrictUndefined keep the template to the three facts above.
_ENVIRONMENT = jinja2.sandbox.ImmutableSandboxedEnvironment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
_SUBJECT_FIELD = f.header_text(120)


def render_subject(template: str, facts: IssueFacts) -> str:
    """The discreet subject for one issue, as validated as any subject in the config."""
    try:
        subject = _ENVIRONMENT.from_string(template).render(issue=facts)
        return _SUBJECT_FIELD(subject)
    except (jinja2.TemplateError, f.Invalid) as exc:
        message = exc.message if isinstance(exc, f.Invalid) else str(exc)
        raise DiscreetError(f"newsletter.yaml: discreet.subject: for issue {facts.number}: "
                            f"{message}", "write it like \"Notes · {{ issue.number }}\"") from None


def _subject_template(value: Any) -> str:
    template = f.text(200)(value)
    try:
        render_subject(template, IssueFacts(1, dt.date(2000, 1, 1), "1"))
    except DiscreetError as exc:
        raise f.Invalid(exc.message.split(": for issue 1: ", 1)[-1],
                        "use only issue.number, issue.date and issue.id, as in "
                        "\"Notes · {{ issue.number }}\"") from None
    return template


def _build(**values: Any) -> DiscreetSettings:
    return DiscreetSettings(**values)


def _different_subjects(values: dict[str, Any]) -> list:
    subjects = [values["subscribe_subject"].casefold(), values["switch_subject"].casefold()]
    if subjects[0] == subjects[1]:
        return [(("switch_subject",), "is the same as subscribe_subject: the import could not "
                 "tell a new discreet subscriber from one switching", "give it other words")]
    return []


DISCREET_SECTION = Section({
    "sender_name": required(f.header_text(60)),
    "subject": required(_subject_template),
    "preheader": required(f.inbox_text(150)),
    "subscribe_subject": required(f.header_text(120)),
    "subscribe_body": optional(f.text(1000, multiline=True), DEFAULT_SUBSCRIBE_BODY),
    "switch_subject": required(f.header_text(120)),
    "switch_body": optional(f.text(1000, multiline=True), DEFAULT_SWITCH_BODY),
    "welcome_subject": optional(f.header_text(120), DEFAULT_WELCOME_SUBJECT),
    "words": optional(f.text_list, ()),
}, _build, checks=(_different_subjects,), required=False)

declare_section(SECTION, DISCREET_SECTION, owner=__name__)


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


def _apart_from_signup(values: dict[str, Any]) -> list:
    """The import tells requests apart by their pre-filled words (subscribers/intake.py): a
    discreet subject equal to a usual one, or a body holding another's, would be read as the
    other request (a discreet subscriber getting the usual version, or unsubscribed)."""
    discreet, signup = values["discreet"], values["signup"]
    usual = {"signup.subscribe_subject": signup.subscribe_subject,
             "signup.unsubscribe_subject": signup.unsubscribe_subject}
    usual_bodies = {"signup.subscribe_body": signup.subscribe_body,
                    "signup.unsubscribe_body": signup.unsubscribe_body}
    problems = []
    for key in ("subscribe_subject", "switch_subject"):
        for name, subject in usual.items():
            if _words(getattr(discreet, key)) == _words(subject):
                problems.append(((SECTION, key), f"is the same as {name}: the import could "
                                 "not tell the two requests apart", "give it other words"))
    for key in ("subscribe_body", "switch_body"):
        mine = _words(getattr(discreet, key))
        for name, body in usual_bodies.items():
            theirs = _words(body)
            if mine in theirs or theirs in mine:
                problems.append(((SECTION, key), f"holds {name}, or is held in it: the import "
                                 "could not tell the two requests apart",
                                 "give it other words"))
    return problems


declare_check("discreet_requests", _apart_from_signup, needs=(SECTION, "signup"),
              owner=__name__)


def discreet_settings(config: Config) -> DiscreetSettings | None:
    """The project's discreet: section, or None when newsletter.yaml has none."""
    return config.sections.get(SECTION)


def revealing_word(text: str, config: Config) -> str | None:
    """The first word in `text` a discreet inbox line may not show, or None: an alarming
    word, one about what the newsletter covers, the newsletter's name or a word of the
    project's own list."""
    alarming = ALARMING.search(text)
    if alarming:
        return alarming.group(0)
    settings = discreet_settings(config)
    own = settings.words if settings else ()
    names = {config.name, config.sender.name}
    name_words = {word for name in names for word in name.split() if len(word) >= 4}
    found = word_pattern(REVEALING_STEMS, (*names, *name_words, *own)).search(text)
    return found.group(0) if found else None


def discreet_subject(config: Config, number: int, date: dt.date, issue_id: str) -> str:
    """The discreet subject of one issue; the section must be set."""
    settings = discreet_settings(config)
    assert settings is not None, "discreet_subject without a discreet: section"
    return render_subject(settings.subject, IssueFacts(number, date, issue_id))


def switch_link(config: Config, settings: DiscreetSettings) -> str:
    """The mailto: link in a discreet message's footer that asks to switch back."""
    return mailto_link(config.sender.email, settings.switch_subject, settings.switch_body)


def issue_variant(config: Config, number: int, date: dt.date,
                  issue_id: str) -> DiscreetVariant | None:
    """What the renderer needs for an issue's discreet variant; None without the section."""
    settings = discreet_settings(config)
    if settings is None:
        return None
    return DiscreetVariant(settings.sender_name, discreet_subject(config, number, date, issue_id),
                           settings.preheader, switch_link(config, settings),
                           config.sender.email, settings.switch_subject)


def welcome_variant(config: Config) -> DiscreetVariant | None:
    """The welcome's discreet variant (subject: discreet.welcome_subject); None without it."""
    settings = discreet_settings(config)
    if settings is None:
        return None
    return DiscreetVariant(settings.sender_name, settings.welcome_subject, settings.preheader,
                           switch_link(config, settings), config.sender.email,
                           settings.switch_subject)
