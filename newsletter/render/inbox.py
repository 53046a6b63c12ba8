"""What an inbox list shows of an email (its subject, preheader, sender name), and the discreet
variant's, which the templates see as `inbox` and `discreet`.

A discreet subscriber (mail/discreet.py) gets the same body under a neutral subject,
preheader and From name; the HTML's <title> and hidden preheader are the neutral ones too,
and the footer carries one line on how to switch back. The render stage cannot read the
discreet: section (mail/ declares it), so the caller hands the neutral words in as
`DiscreetVariant`; a rendered variant is checked here for what a template could forget.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from ..errors import RenderError


@dataclass(frozen=True)
class Inbox:
    """What templates see as `inbox`: the subject (also the HTML <title>) and the preheader."""

    subject: str
    preheader: str


@dataclass(frozen=True)
class DiscreetVariant:
    """The neutral words of a discreet message, and the mailto: link that switches back.

    Templates see it as `discreet` (None in the usual version): `sender_name`, `switch_url`
    (a mailto: link to `switch_to`), `switch_to` (the sender's address), `switch_subject`."""

    sender_name: str
    subject: str
    preheader: str
    switch_url: str
    switch_to: str
    switch_subject: str  # what a short body (a mailto: link's) says to write instead

    @property
    def inbox(self) -> Inbox:
        return Inbox(self.subject, self.preheader)

    @property
    def cover(self) -> str:
        """The line after the masthead: with the preheader and the masthead, what a preview
        of a few lines shows (PREVIEW characters), so it must say nothing of the email."""
        return DISCREET_COVER


# An inbox list or a notification shows the subject and up to about four lines of the
# email: 250 characters of what it reads first. In the discreet version those are the
# preheader, the neutral masthead and this line; the issue itself starts after them.
PREVIEW = 250
DISCREET_COVER = ("This is the discreet version you asked for: its sender name, subject and "
                  "first lines stay neutral, so a screen that shows them says nothing of what "
                  "you read. The email itself follows below.")


_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)


def check_discreet(template: str, variant: DiscreetVariant, html: str, text: str,
                   shown: tuple[str, str], names: tuple[str, ...] = ()) -> None:
    """Raise unless the discreet render of templates/TEMPLATE shows the neutral <title> and
    preheader and the switch-back link in both parts, and not the usual subject or preheader
    in the HTML's head (`shown`: the usual ones). A project's own template that still writes
    `issue.subject` into <mj-title> would otherwise put it on a shared screen. Nor may the
    first PREVIEW characters a preview reads of either part show the usual subject or
    preheader, or any of `names` (the newsletter's)."""
    where = f"templates/{template}.mjml.j2"
    hint = ("use {{ inbox.subject }} in <mj-title>, {{ inbox.preheader }} for the hidden "
            "preheader, and include partials/footer.mjml.j2 and footer.txt.j2")
    titles = [html_lib.unescape(title).strip() for title in _TITLE.findall(html)]
    if titles != [variant.subject]:
        raise RenderError(f"{where}: the discreet version's <title> is {titles}, not the "
                          f"discreet subject {variant.subject!r}", hint)
    preheader = html.find("ms-preheader")
    head = html_lib.unescape(html[:html.find("</div>", preheader)] if preheader >= 0 else "")
    if variant.preheader not in head:
        raise RenderError(f"{where}: the discreet version has no hidden preheader "
                          f"{variant.preheader!r}", hint)
    for usual in shown:
        if usual and usual not in variant.subject and usual not in variant.preheader \
                and usual in head:
            raise RenderError(f"{where}: the discreet version's head or preheader shows "
                              f"{usual!r}", hint)
    # Words the neutral ones themselves hold are check's to report (checks/discreet.py),
    # with the newsletter.yaml line: here only what a template adds.
    own = " ".join((variant.sender_name, variant.subject, variant.preheader)).casefold()
    for part, preview in (("HTML", preview_of_html(html)), ("text part", _collapsed(text))):
        for usual in (*shown, *names):
            if usual and usual.casefold() not in own \
                    and usual.casefold() in preview[:PREVIEW].casefold():
                raise RenderError(f"{where}: the discreet version's {part} shows {usual!r} in "
                                  f"its first {PREVIEW} characters, which a preview shows",
                                  "start the discreet version with {{ inbox.preheader }}, the "
                                  "masthead with discreet.sender_name and {{ discreet.cover }}; "
                                  "a longer discreet.preheader moves what follows further on")
    if html_lib.escape(variant.switch_url) not in html or variant.switch_url not in text:
        raise RenderError(f"templates/{template}: the discreet version has no footer line "
                          "with the link that switches back (in the HTML and the text part)",
                          hint)


_HEAD = re.compile(r"<head\b.*?</head>|<style\b.*?</style>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def preview_of_html(html: str) -> str:
    """The HTML's text in reading order, as a preview generator takes it: the hidden
    preheader first, tags and the head dropped, soft hyphens gone, spaces collapsed."""
    return _collapsed(html_lib.unescape(_TAG.sub(" ", _HEAD.sub(" ", html))))


def _collapsed(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())
