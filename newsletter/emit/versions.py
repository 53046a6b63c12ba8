"""The versions of a message one run emits: the usual one and, for the subscribers who asked
for it, the discreet one (mail/discreet.py), each rendered once per run.

A discreet subscriber never gets the usual version: a list with one, in a project without a
discreet: section, is refused before anything is written, as is a discreet version whose
inbox line shows a revealing word (checks/discreet.py). Which version a subscriber gets
depends only on their `discreet` flag, so a resumed run gives each the same one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from ..checks.discreet import refuse_revealing
from ..errors import NewsletterError
from ..mail.discreet import issue_variant, welcome_variant
from ..render.renderer import RenderedIssue, Renderer
from ..source.models import Issue, Subscriber
from ..source.project import Project
from ..subscribers.addresses import address_key
from ..subscribers.lists import CsvList, RecipientList
from . import modes
from .context import DISCREET_HINT, EmitMode
from .ledger import Ledger

ISSUE_HASH = "issue"  # the ledger's meta key for the usual version as first emitted
DISCREET_HASH = "issue-discreet"  # and for the discreet one


def render_issue(project: Project, issue: Issue) -> tuple[RenderedIssue, RenderedIssue | None]:
    """(the usual version, the discreet one or None without a discreet: section)."""
    renderer = Renderer(project.root, project.config)
    variant = issue_variant(project.config, issue.number, issue.date)
    return renderer.render(issue), renderer.render(issue, variant) if variant else None


def render_welcome(project: Project,
                   today: dt.date) -> tuple[RenderedIssue, RenderedIssue | None]:
    """The welcome's (usual, discreet or None), as it would go out on `today`."""
    renderer = Renderer(project.root, project.config)
    variant = welcome_variant(project.config)
    return (renderer.render_welcome(project.issues, today),
            renderer.render_welcome(project.issues, today, variant) if variant else None)


def refuse_unsendable(project: Project, rendered: RenderedIssue,
                      discreet: RenderedIssue | None, recipients: RecipientList,
                      mode: type[EmitMode]) -> None:
    """Raise before anything is touched when a subscriber could only get the wrong version:
    a discreet version that gives itself away, or a discreet subscriber in the list and no
    discreet version, or a mode that cannot send it (EmitMode.versions). The whole list is
    read for that only in those two cases, and only when it can hold a discreet subscriber
    (a CSV with a discreet column, a store with one)."""
    if discreet is not None:
        refuse_revealing(project.config, rendered.issue)
        if mode.versions:
            return
    if not recipients.may_be_discreet():
        return
    sender = address_key(project.config.sender.email)
    asked = [row for row in recipients.rows() if row.subscriber is not None
             and row.subscriber.discreet and address_key(row.subscriber.email) != sender]
    if not asked:
        return
    where = (f"{recipients.label}:{asked[0].line}" if isinstance(recipients, CsvList)
             else recipients.label)
    if discreet is None:
        raise NewsletterError(f"{where}: {len(asked)} subscriber(s) asked for the discreet "
                              "version, and newsletter.yaml has no discreet: section; nothing "
                              "was emitted", DISCREET_HINT)
    usable = ", ".join(name for name, each in modes.MODES.items() if each.versions)
    raise NewsletterError(f"{where}: {len(asked)} subscriber(s) asked for the discreet version, "
                          f"which --mode {mode.name} cannot send yet; nothing was emitted",
                          f"emit to them with --mode {usable}")


def check_same_versions(ledger: Ledger, rendered: RenderedIssue, discreet: RenderedIssue | None,
                        force: bool) -> Callable[[list[Subscriber]], None]:
    """Drafts already made carry the issue as it was then: a changed issue (either version)
    must not reach only the rest of the list. The usual version's hash is the one ledgers
    have always kept; the discreet one's has a key of its own, recorded only once a
    discreet subscriber is given that version (the ledger notes who), and compared only
    while one of them has it: the discreet version may change until then. Returns what
    the run calls with each chunk before the mode gets it."""
    before = ledger.meta(ISSUE_HASH)
    if before and before != _digest(rendered) and ledger.done_count() and not force:
        raise _changed("the issue", ledger.done_count())
    ledger.set_meta(ISSUE_HASH, _digest(rendered))
    if discreet is None:
        return lambda chunk: None  # refuse_unsendable let no discreet subscriber through
    digest, before = _discreet_digest(discreet), ledger.meta(DISCREET_HASH)
    had = ledger.discreet_count() if before else 0
    if before and before != digest and had and not force:
        raise _changed("the issue's discreet version", had)
    if before and not had:  # nobody has that version (its drafts were removed on resume)
        ledger.set_meta(DISCREET_HASH, None)
    elif had:
        ledger.set_meta(DISCREET_HASH, digest)  # the same, or --force gives the new one
    return _Notes(ledger, digest, noted=bool(had))


class _Notes:
    """Notes in the ledger who is given the discreet version, with its hash, before the
    mode writes their drafts; once any is noted, the others are noted as usual (a --force
    run may give a switched subscriber the other version)."""

    def __init__(self, ledger: Ledger, digest: str, noted: bool) -> None:
        self.ledger, self.digest, self.noted = ledger, digest, noted

    def __call__(self, chunk: list[Subscriber]) -> None:
        keys = [address_key(s.email) for s in chunk if s.discreet]
        usual = [address_key(s.email) for s in chunk if not s.discreet] if self.noted else []
        if keys or usual:
            self.ledger.note_discreet(keys, usual, (DISCREET_HASH, self.digest))
            self.noted = True


def _changed(label: str, count: int) -> NewsletterError:
    return NewsletterError(f"{label} changed since it was emitted to {count} subscriber(s)",
                           "undo the change, or run with --force to emit the new version to "
                           "everyone")


def _digest(version: RenderedIssue) -> str:
    return hashlib.sha256("\0".join((version.subject, version.text_with_slot,
                                       version.html_with_slot)).encode()).hexdigest()


def _discreet_digest(version: RenderedIssue) -> str:
    """The usual parts and the neutral From name and List-Id phrase (mail/message.py takes
    both from sender_name), which show in the inbox line as much as the subject does."""
    names = version.discreet.sender_name if version.discreet else ""
    return hashlib.sha256("\0".join((_digest(version), names, names)).encode()).hexdigest()
