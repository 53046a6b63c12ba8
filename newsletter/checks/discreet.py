"""The discreet version's inbox line: no word in it may say what the email is about.

A discreet subscriber reads on a shared phone or laptop (mail/discreet.py): the From name,
the subject as rendered for the issue (the welcome's own subject for the welcome) and the
preheader are what a notification or an inbox list shows to whoever looks, so a revealing
word in any of them is an error, at build's preflight and in `check`; `emit` and `welcome`
refuse it too (emit/versions.py). So is a discreet subject or preheader that shares a run of
three or more words with the issue's own subject, preheader or a chunk's title (the welcome's
subject and preheader for the welcome): "The parts of you that are trying to help" says what
the email is about with no word of the list. Without a discreet: section there is nothing to
check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .. import clock
from ..errors import NewsletterError, Problem, RenderError, display_path
from ..mail.discreet import (
    DiscreetError,
    discreet_settings,
    discreet_subject,
    issue_variant,
    key_line,
    revealing_word,
    welcome_variant,
)
from ..mail.inbox_words import fold
from ..render.renderer import WELCOME, Renderer
from ..source.config import Config
from ..source.models import Issue
from .findings import Finding
from .registry import CHECK, PREFLIGHT, CheckContext, rule

RULE = "discreet"
_HINT = ("use neutral words, as in \"Notes · {{ issue.number }}\": not the newsletter's or "
         "the sender's name, nothing about what it covers, none of discreet.words")
_OWN_WORDS_HINT = ("write neutral words of your own, as in \"Notes · {{ issue.number }}\": "
                   "none of the email's subject, preheader or pieces' titles")
SHARED_RUN = 3  # words in a row the discreet subject or preheader may not share with the issue


class DiscreetWordsError(NewsletterError):
    """`emit` and `welcome` refuse a discreet version whose inbox line gives it away."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(f"{len(findings)} problem(s) in the discreet version's inbox line",
                         "fix them in newsletter.yaml's discreet: section")

    def lines(self) -> list[str]:
        return [f.located() for f in self.findings]


def inbox_findings(config: Config, issue: Issue) -> list[Finding]:
    """Errors for each of the discreet sender_name, subject (rendered for `issue`; for the
    welcome, welcome_subject) and preheader that shows a revealing word, naming the word and
    its newsletter.yaml line. None without a discreet: section."""
    settings = discreet_settings(config)
    if settings is None:
        return []
    line = _key_lines(config)
    where = display_path(config.path)
    findings: list[Finding] = []
    shown = [("sender_name", settings.sender_name, "")]
    if issue.template == WELCOME:
        shown.append(("welcome_subject", settings.welcome_subject, ""))
    else:
        try:
            subject = discreet_subject(config, issue.number, issue.date)
        except DiscreetError as exc:
            findings.append(Problem(where, line("subject"), "discreet.subject",
                                    exc.message.split(": ", 2)[-1], exc.hint, "error", RULE))
        else:
            shown.append(("subject", subject, f" (as rendered for issue {issue.number})"))
    shown.append(("preheader", settings.preheader, ""))
    own = _own_words(issue)
    for key, text, rendered_for in shown:
        word = revealing_word(text, config)
        shared = None if word or key == "sender_name" else _shared_run(text, own)
        if word:
            findings.append(Problem(
                where, line(key), f"discreet.{key}",
                f"{text!r}{rendered_for} shows {word!r}, which tells whoever sees a discreet "
                "subscriber's screen what the email is about", _HINT, "error", RULE))
        elif shared:
            words, source = shared
            findings.append(Problem(
                where, line(key), f"discreet.{key}",
                f"{text!r}{rendered_for} shares {words!r} with {source}: the email's own "
                "words tell whoever sees a discreet subscriber's screen what it is about",
                _OWN_WORDS_HINT, "error", RULE))
    return findings


def _own_words(issue: Issue) -> list[tuple[str, str]]:
    """(text, what it is) of what says what this email is about in its own words."""
    email = "the welcome" if issue.template == WELCOME else "the issue"
    own = [(issue.subject, f"{email}'s subject"), (issue.preheader, f"{email}'s preheader")]
    return own + [(entry.chunk.title, f"the title of {entry.chunk.id}") for entry in issue.entries]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text)[0])  # case, accents and punctuation aside


def _shared_run(text: str, own: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The longest run of SHARED_RUN or more words in a row that `text` shares with one of
    `own`, and what that one is; None when there is none."""
    mine, best = _words(text), None
    for theirs, source in own:
        other = _words(theirs)
        # run[j]: the length of the common run ending at mine[i] and other[j]
        run = [0] * (len(other) + 1)
        for i in range(len(mine)):
            for j in range(len(other), 0, -1):
                run[j] = run[j - 1] + 1 if mine[i] == other[j - 1] else 0
                if run[j] >= SHARED_RUN and (best is None or run[j] > len(best[0])):
                    best = (mine[i - run[j] + 1:i + 1], source)
    return (" ".join(best[0]), best[1]) if best else None


def refuse_revealing(config: Config, issue: Issue) -> None:
    """Raise DiscreetWordsError when the discreet inbox line shows a revealing word."""
    findings = inbox_findings(config, issue)
    if findings:
        raise DiscreetWordsError(findings)


@rule(RULE, stages=(PREFLIGHT, CHECK), order=25, severity="error")
def _discreet(context: CheckContext) -> list[Finding]:
    config = context.project.config
    findings = inbox_findings(config, context.issue)
    if findings or discreet_settings(config) is None or context.rendered is None:
        return findings  # an email that did not render is reported once, by check itself
    # The discreet version must render too, with its neutral <title> and preheader and the
    # footer's switch-back line: a project's own template may have been written before them.
    issue, renderer = context.issue, Renderer(context.project.root, config)
    try:
        if issue.template == WELCOME:
            renderer.render_welcome(context.project.issues, clock.today(),
                                    welcome_variant(config))
        else:
            renderer.render(issue, issue_variant(config, issue.number, issue.date))
    except RenderError as exc:
        place, _, what = exc.message.partition(": ")
        return [Problem(place, None, None, what or exc.message, exc.hint, "error", RULE)]
    return []


def _key_lines(config: Config) -> Callable[[str], int | None]:
    """discreet.KEY -> its line in newsletter.yaml, read again only when a finding needs it."""
    return functools.cache(lambda key: key_line(config, key))
