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


_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)


def check_discreet(template: str, variant: DiscreetVariant, html: str, text: str,
                   shown: tuple[str, str]) -> None:
    """Raise unless the discreet render of templates/TEMPLATE shows the neutral <title> and
    preheader and the switch-back link in both parts, and not the usual subject or preheader
    in the HTML's head (`shown`: the usual ones). A project's own template that still writes
    `issue.subject` into <mj-title> would otherwise put it on a shared screen."""
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
    if html_lib.escape(variant.switch_url) not in html or variant.switch_url not in text:
        raise RenderError(f"templates/{template}: the discreet version has no footer line "
                          "with the link that switches back (in the HTML and the text part)",
                          hint)
