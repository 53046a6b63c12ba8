"""The mailto mode's files (mailto.txt, mailto.html), written with the ledger's two steps.

Discreet subscribers (mail/discreet.py) get links of their own, after the others': the
discreet version's subject and body, never in a batch with anyone who gets the usual one.
"""

from __future__ import annotations

from typing import ClassVar

from .. import clock
from ..output import unique_path, write_all_atomic
from ..source.models import Subscriber
from ..subscribers.addresses import address_key
from .context import BaseMode, EmitContext
from .ledger import Entry
from .mailto_links import MailtoPlan, mailto_files, plan_mailto

LINKS, PAGE = "mailto.txt", "mailto.html"
FILES = (LINKS, PAGE)


class MailtoMode(BaseMode):
    """Collects this run's subscribers; links need the whole list, so they are written at close."""

    name = "mailto"
    help = "links to click"
    companions: ClassVar[dict[str, str]] = {".txt": ".html"}  # mailto.txt's page
    versions: ClassVar[bool] = True  # discreet subscribers get links of their own

    def __init__(self, context: EmitContext) -> None:
        super().__init__(context)
        self.folder, self.config, self.rendered = context.folder, context.config, context.rendered
        self.discreet = context.discreet
        self.ledger, self.batch_size, self.run = context.ledger, context.batch_size, context.run
        self.subscribers: list[Subscriber] = []

    def add(self, subscribers: list[Subscriber]) -> None:
        self.subscribers.extend(subscribers)

    def close(self) -> list[str]:
        if not self.subscribers:
            return []
        plan = self._plan()
        data = mailto_files(plan, self.config, self.rendered, self.discreet)
        entries = [Entry(address_key(s.email), s.email, self.name, LINKS, None)
                   for batch in plan.batches for s in batch.recipients]
        self.ledger.begin(entries, self.run)
        kept = self._keep_previous()
        write_all_atomic({self.folder / name: data[name] for name in FILES})
        self.ledger.finish(entries)
        self.emitted = len(entries)
        notes = list(plan.notes)
        if kept:
            notes.append(f"The earlier links are kept in {kept}.")
        notes.append(f"{len(plan.batches)} link(s): open {PAGE} and click them in order")
        return notes

    def _plan(self) -> MailtoPlan:
        """The usual version's batches, then the discreet one's, numbered on."""
        usual = [s for s in self.subscribers if not s.discreet]
        discreet = [s for s in self.subscribers if s.discreet]
        plans = []
        if usual:
            plans.append(plan_mailto(self.config, self.rendered, usual, self.batch_size))
        if discreet:
            version = self.context.variant(discreet[0])
            plans.append(plan_mailto(self.config, version, discreet, self.batch_size,
                                     first=len(plans[0].batches) + 1 if plans else 1))
        notes = [("Discreet version: " if plan.batches[0].discreet else "") + note
                 for plan in plans for note in plan.notes]
        if discreet:
            notes.append(f"{len(plans[-1].batches)} link(s) for {len(discreet)} subscriber(s) "
                         "who asked for the discreet version, marked discreet in mailto.html: "
                         "send them from a mail identity named "
                         f"\"{self.context.variant(discreet[0]).discreet.sender_name}\" "
                         "(a mailto: link cannot set the sender's name).")
        return MailtoPlan([batch for plan in plans for batch in plan.batches],
                          notes)

    def _keep_previous(self) -> str | None:
        """An earlier run's links are renamed (never overwritten), and the ledger follows."""
        if not (self.folder / LINKS).exists():
            return None
        stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
        links = unique_path(self.folder / f"mailto-until-{stamp}.txt")
        (self.folder / LINKS).rename(links)
        if (self.folder / PAGE).exists():
            (self.folder / PAGE).rename(links.with_suffix(".html"))
        self.ledger.rename_file(LINKS, links.name)
        return links.name
