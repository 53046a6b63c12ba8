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
import jinja2.nodes
import jinja2.sandbox

from ..errors import NewsletterError, display_path
from ..render.inbox import DiscreetVariant
from ..source import fields as f
from ..source.config import Config
from ..source.schema import Section, optional, required
from ..source.sections import declare_check, declare_section
from ..source.yamlsource import load_yaml
from .inbox_words import find_revealing
from .mailto import mailto_link

SECTION = "discreet"
DEFAULT_SUBSCRIBE_BODY = "Please add me, and send me the discreet version."
DEFAULT_SWITCH_BODY = "Please switch my emails between the discreet and the usual version."
DEFAULT_WELCOME_SUBJECT = "Welcome"


@dataclass(frozen=True)
class DiscreetSettings:
    sender_name: str
    subject: str  # a Jinja string over `issue` (number and date only)
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
    """What the subject template may use: nothing that could say what the issue is about
    (not its id: that is the file's name, the topic's slug, as in 002-parts-that-help)."""

    number: int
    date: dt.date


ALLOWED = ("issue.number", "issue.date")
_ALLOWED_HINT = (f"use only {' and '.join(ALLOWED)}, which say nothing of what the issue is "
                 "about, as in \"Notes · {{ issue.number }}\"")
# Not autoescaped: the result is a mail header, not HTML (the HTML <title> escapes it as
# data). The sandbox and StrictUndefined keep the template to the facts above; there is no
# loader, and the tags that would need one are refused before rendering.
_ENVIRONMENT = jinja2.sandbox.ImmutableSandboxedEnvironment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
_SUBJECT_FIELD = f.header_text(120)
_OTHER_TEMPLATES = {jinja2.nodes.Include: "include", jinja2.nodes.Extends: "extends",
                    jinja2.nodes.Import: "import", jinja2.nodes.FromImport: "from ... import"}


def _refused(tree: jinja2.nodes.Template) -> str | None:
    """Why the parsed template may not be used, or None: a tag that reads another template,
    or an attribute of `issue` it does not have (StrictUndefined would say so, in Jinja's
    words; this says which ones there are)."""
    for node in tree.find_all(tuple(_OTHER_TEMPLATES)):
        return (f"{{% {_OTHER_TEMPLATES[type(node)]} %}} cannot be used: the subject is one "
                "line of its own, not built from other templates")
    allowed = {name.split(".")[1] for name in ALLOWED}
    for node in tree.find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem)):
        key = node.attr if isinstance(node, jinja2.nodes.Getattr) else getattr(node.arg, "value",
                                                                                 None)
        if (isinstance(node.node, jinja2.nodes.Name) and node.node.name == "issue"
                and isinstance(key, str) and key not in allowed):
            return f"issue.{key} is not one of the names it may use: {', '.join(ALLOWED)}"
    return None


def render_subject(template: str, facts: IssueFacts) -> str:
    """The discreet subject for one issue, as validated as any subject in the config. Any
    failure of the template (a syntax error, an unknown name, a tag that reads another
    template, an error while rendering such as a division by zero) is a DiscreetError."""
    try:
        refused = _refused(_ENVIRONMENT.parse(template))
        if refused:
            raise f.Invalid(refused)
        subject = _ENVIRONMENT.from_string(template).render(issue=facts)
        return _SUBJECT_FIELD(subject)
    except Exception as exc:  # whatever the template does, it is the config's to fix
        if isinstance(exc, f.Invalid):
            message = exc.message
        elif isinstance(exc, jinja2.TemplateError):
            message = str(exc)
        else:
            message = f"it fails when rendered: {type(exc).__name__}: {exc}"
        raise DiscreetError(f"newsletter.yaml: discreet.subject: for issue {facts.number}: "
                            f"{message}", _ALLOWED_HINT) from None


def _subject_template(value: Any) -> str:
    template = f.text(200)(value)
    try:
        render_subject(template, IssueFacts(1, dt.date(2000, 1, 1)))
    except DiscreetError as exc:
        raise f.Invalid(exc.message.split(": for issue 1: ", 1)[-1], exc.hint) from None
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
    """The first word in `text` a discreet inbox line may not show, as written there, or
    None: an alarming word, one about what the newsletter covers, the newsletter's or the
    sender's name (also spaced or hyphenated: "mind shape") or a word of the project's own
    list; invisible and fullwidth characters do not hide one (inbox_words.fold)."""
    settings = discreet_settings(config)
    own = settings.words if settings else ()
    names = {config.name, config.sender.name}
    name_words = {word for name in names for word in name.split() if len(word) >= 4}
    return find_revealing(text, own, (*names, *name_words))


def key_line(config: Config, key: str) -> int | None:
    """discreet.KEY's line in newsletter.yaml (the section's when the key is not written)."""
    try:
        doc, _ = load_yaml(config.path.read_text(encoding="utf-8"), config.path)
    except (OSError, UnicodeDecodeError, NewsletterError):
        return None
    lines = doc.lines if doc is not None else {}
    return lines.get((SECTION, key)) or lines.get((SECTION,))


def discreet_subject(config: Config, number: int, date: dt.date) -> str:
    """The discreet subject of one issue; the section must be set. A template that fails for
    this issue only (it rendered for the check at load) names its newsletter.yaml line."""
    settings = discreet_settings(config)
    assert settings is not None, "discreet_subject without a discreet: section"
    try:
        return render_subject(settings.subject, IssueFacts(number, date))
    except DiscreetError as exc:
        line = key_line(config, "subject")
        where = display_path(config.path) + (f":{line}" if line else "")
        raise DiscreetError(where + exc.message.removeprefix("newsletter.yaml"),
                            exc.hint) from None


def switch_link(config: Config, settings: DiscreetSettings) -> str:
    """The mailto: link in a discreet message's footer that asks to switch back."""
    return mailto_link(config.sender.email, settings.switch_subject, settings.switch_body)


def issue_variant(config: Config, number: int, date: dt.date) -> DiscreetVariant | None:
    """What the renderer needs for an issue's discreet variant; None without the section."""
    settings = discreet_settings(config)
    if settings is None:
        return None
    return DiscreetVariant(settings.sender_name, discreet_subject(config, number, date),
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
