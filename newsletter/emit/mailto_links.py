"""The `mailto` mode: Bcc batches as links the editor clicks, each kept short enough to open."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2

from ..errors import NewsletterError
from ..mail.mailto import mailto_link, unsubscribe_link
from ..render.markup import markdown_to_text
from ..render.renderer import RenderedIssue
from ..source.config import Config
from ..source.models import Subscriber

# Many mail apps and browsers cut a mailto: link longer than this, silently.
MAX_LINK = 2000
BODIES = ("full", "short", "minimal")
# What a normalised address may hold (RFC 5322 atext, dots, an ASCII domain): nothing that,
# once decoded, could end the address or start another one.
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
# Long enough that no paragraph is wrapped: the reader's mail app wraps, and every
# line break costs six characters (%0D%0A) of the link.
_UNWRAPPED = 10**9


class MailtoError(NewsletterError):
    """The subscribers or the issue cannot be put into links that mail apps open."""


@dataclass(frozen=True)
class MailtoBatch:
    number: int  # 1-based, the order the editor clicks in
    recipients: tuple[Subscriber, ...]
    url: str  # the mailto: link
    body: str  # "full" | "short" | "minimal"
    discreet: bool = False  # the discreet version, for subscribers who asked for it


@dataclass(frozen=True)
class MailtoPlan:
    batches: list[MailtoBatch]
    notes: list[str]  # sentences for the editor: which body, and why batches are smaller


def plan_mailto(config: Config, rendered: RenderedIssue, subscribers: list[Subscriber],
                batch_size: int, first: int = 1) -> MailtoPlan:
    """Every subscriber in exactly one batch, in the given order, every link <= MAX_LINK.

    One body for the whole issue, so every reader gets the same email: the full text
    when it fits without more links than `batch_size` alone would make, else the short
    body, else (when the short body does not fit even one address) the minimal one.
    Batches are filled greedily, closed early only to stay within the limit. Subscribers
    are expected validated and without duplicates (the subscriber list's reader does that).
    Batches are numbered from `first`; a discreet version's are marked `discreet`.
    """
    if batch_size < 1:
        raise MailtoError(f"the batch size must be at least 1, got {batch_size}",
                          "pass --batch-size with a positive number")
    for subscriber in subscribers:
        if not _ADDRESS.fullmatch(subscriber.email):
            raise MailtoError(f"{subscriber.email!r} cannot go in a mailto: link",
                              "read the list with the subscriber reader, which checks addresses")
    costs = [len(quote(s.email, safe="@")) for s in subscribers]
    needed = -(-len(subscribers) // batch_size)
    refused: dict[str, str] = {}  # body -> the length that ruled it out, as the editor reads it
    for kind in BODIES:
        body = body_text(config, rendered, kind)
        base = len(_link(config, rendered, body, [""]))  # the link with an empty bcc list
        groups, cut = _pack(costs, base, batch_size)
        # The full text only when it costs the editor no extra link.
        if groups is None or (kind == "full" and len(groups) > needed):
            refused[kind] = _measure(config, rendered, body, subscribers, batch_size, kind)
            continue
        batches = []
        start = 0
        for number, size in enumerate(groups, first):
            recipients = tuple(subscribers[start:start + size])
            start += size
            url = _link(config, rendered, body, [s.email for s in recipients])
            if len(url) > MAX_LINK:  # _pack measured wrong: never hand out a cut link
                raise MailtoError(f"batch {number}'s link has {len(url)} characters",
                                  "report this as a bug")
            batches.append(MailtoBatch(number, recipients, url, kind,
                                       rendered.discreet is not None))
        notes = [_why(kind, refused)] if refused else []
        if cut:
            more = f": {len(groups)} links instead of {needed}" if len(groups) > needed else ""
            notes.append(f"Batches hold at most {max(groups)} recipients, not {batch_size}, so "
                         f"that each link stays within {MAX_LINK:,} characters{more}.")
        return MailtoPlan(batches, notes)
    longest = max(subscribers, key=lambda s: len(s.email))
    raise MailtoError(f"even the minimal body with only {longest.email} makes a link over "
                      f"{MAX_LINK:,} characters",
                      "shorten the subject or the footer's crisis lines and disclaimer")


def body_text(config: Config, rendered: RenderedIssue, kind: str) -> str:
    """The body a link of `kind` carries, with "\\n" line ends (the link has CRLF).

    Short and minimal bodies still carry what every email must: the crisis lines,
    the "educational, not diagnostic" line and how to unsubscribe; the discreet version's
    also start with its neutral preheader and say how to switch back, as its text part does.
    """
    if kind == "full":
        return rendered.parts(unsubscribe_link(config))[1]
    issue = rendered.issue
    footer = config.footer
    crisis = "\n".join([footer.crisis_intro]
                       + [f"{line.label} ({line.where})" for line in footer.crisis_lines]
                       + [f"{footer.helpline_directory.label}: {footer.helpline_directory.url}"])
    unsubscribe = (f"To unsubscribe, send a message to {config.sender.email} with the subject "
                   f"\"{config.signup.unsubscribe_subject}\".")
    web = f"Read this issue on the web:\n{config.web_url(issue.id)}"
    discreet = rendered.discreet
    # A link's mail is text alone, whose first lines are its preview: the discreet version's
    # start with the preheader and the cover line, as its text part does, and only then the
    # body's own title, the issue's subject.
    first = [rendered.preheader, discreet.cover] if discreet else []
    if kind == "minimal":
        blocks = [*first, issue.subject, web]
    elif kind == "short":
        # The intro's first paragraph: the whole intro alone nearly fills a link.
        intro = markdown_to_text(issue.intro, _UNWRAPPED).strip().split("\n\n")[0]
        pieces = "\n".join(f"- {e.chunk.title}: {e.chunk.url}" for e in issue.entries)
        # The welcome carries no pieces: no empty "In this issue:" then.
        listed = [f"In this issue:\n{pieces}"] if issue.entries else []
        blocks = [*first, issue.subject, intro, *listed, web]
    else:
        raise ValueError(f"unknown body {kind!r}; one of {', '.join(BODIES)}")
    switch = [f"You get the discreet version of these emails. To switch to the usual version, "
              f"send a message to {discreet.switch_to} with the subject "
              f"\"{discreet.switch_subject}\"."] if discreet else []
    return "\n\n".join([*blocks, crisis, footer.disclaimer, unsubscribe, *switch]) + "\n"


def mailto_files(plan: MailtoPlan, config: Config, rendered: RenderedIssue,
                 discreet: RenderedIssue | None = None) -> dict[str, bytes]:
    """{"mailto.txt": the links one per line, "mailto.html": the page the editor clicks through}.

    With discreet batches in the plan, the page marks them and says what the editor must set
    by hand (`discreet`: that version; a mailto: link cannot carry a From name)."""
    text = "".join(f"{batch.url}\n" for batch in plan.batches)
    usual = [batch for batch in plan.batches if not batch.discreet]
    page = _environment().get_template("mailto_page.html.j2").render(
        plan=plan, config=config, issue=rendered.issue, subject=rendered.subject,
        body=(usual or plan.batches)[0].body if plan.batches else None,
        discreet=discreet.discreet if discreet is not None and any(
            batch.discreet for batch in plan.batches) else None,
        discreet_body=next((b.body for b in plan.batches if b.discreet), None),
        keys={b.number: _mark_key(rendered.issue.id, b) for b in plan.batches},
        longest=max((len(b.url) for b in plan.batches), default=0), max_link=MAX_LINK)
    return {"mailto.txt": text.encode("utf-8"), "mailto.html": page.encode("utf-8")}


def _link(config: Config, rendered: RenderedIssue, body: str, bcc: list[str]) -> str:
    """The version's own subject: the discreet one's for a discreet batch."""
    return mailto_link(config.sender.email, rendered.subject, body, bcc=bcc)


def _pack(costs: list[int], base: int, batch_size: int) -> tuple[list[int] | None, bool]:
    """(batch sizes, whether the limit closed a batch before `batch_size`), filled greedily
    in order; sizes are None when one address alone would make a link over the limit."""
    sizes: list[int] = []
    size, length, cut = 0, base, False
    for cost in costs:
        extra = cost + (1 if size else 0)  # addresses are joined by ","
        if size and (size == batch_size or length + extra > MAX_LINK):
            cut = cut or size < batch_size
            sizes.append(size)
            size, length, extra = 0, base, cost
        if length + extra > MAX_LINK:
            return None, cut
        size, length = size + 1, length + extra
    if size:
        sizes.append(size)
    return sizes, cut


def _measure(config: Config, rendered: RenderedIssue, body: str,
             subscribers: list[Subscriber], batch_size: int, kind: str) -> str:
    """'a link of 6,269 characters for 50 recipients': what ruled out the `kind` body."""
    if kind == "full":
        first = [s.email for s in subscribers[:batch_size]]
    else:  # ruled out because one address alone does not fit: show the longest
        first = [max((s.email for s in subscribers), key=len)]
    length = len(_link(config, rendered, body, first))
    return f"a link of {length:,} characters for {_recipients(len(first))}"


def _why(kind: str, refused: dict[str, str]) -> str:
    """Why the links carry the `kind` body, as one sentence for the run's notes."""
    limit = f"over the {MAX_LINK:,} characters where many mail apps cut links"
    if kind == "short":
        return (f"The full text makes {refused['full']}, {limit}: the links carry a short body "
                "(the intro's first paragraph, each piece's title and link, the web version's "
                "address, the crisis lines, the disclaimer and how to unsubscribe).")
    return (f"The full text makes {refused['full']} and even the short body makes "
            f"{refused['short']}, {limit}: the links carry a minimal body (the subject, the web "
            "version's address, the crisis lines, the disclaimer and how to unsubscribe).")


def _recipients(count: int) -> str:
    return f"{count} recipient" + ("" if count == 1 else "s")


def _mark_key(issue_id: str, batch: MailtoBatch) -> str:
    """Where the page remembers a batch as done: a later run's batch 1 is not this one."""
    digest = hashlib.sha256(batch.url.encode("utf-8")).hexdigest()[:16]
    return f"mindshape-mailto:{issue_id}:{batch.number}:{digest}"


def _csp_hash(script: str) -> str:
    """The Content-Security-Policy source that lets exactly this inline script run."""
    return "sha256-" + base64.b64encode(hashlib.sha256(str(script).encode()).digest()).decode()


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["csp_hash"] = _csp_hash
    return env
