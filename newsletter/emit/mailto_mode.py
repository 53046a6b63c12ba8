"""The mailto mode's files (mailto.txt, mailto.html), written with the ledger's two steps."""

from __future__ import annotations

from typing import ClassVar

from .. import clock
from ..output import unique_path, write_all_atomic
from ..source.models import Subscriber
from ..subscribers.addresses import address_key
from .context import BaseMode, EmitContext
from .ledger import Entry
from .mailto_links import mailto_files, plan_mailto

LINKS, PAGE = "mailto.txt", "mailto.html"
FILES = (LINKS, PAGE)


class MailtoMode(BaseMode):
    """Collects this run's subscribers; links need the whole list, so they are written at close."""

    name = "mailto"
    help = "links to click"
    companions: ClassVar[dict[str, str]] = {".txt": ".html"}  # mailto.txt's page

    def __init__(self, context: EmitContext) -> None:
        super().__init__(context)
        self.folder, self.config, self.rendered = context.folder, context.config, context.rendered
        self.ledger, self.batch_size, self.run = context.ledger, context.batch_size, context.run
        self.subscribers: list[Subscriber] = []

    def add(self, subscribers: list[Subscriber]) -> None:
        self.subscribers.extend(subscribers)

    def close(self) -> list[str]:
        if not self.subscribers:
            return []
        plan = plan_mailto(self.config, self.rendered, self.subscribers, self.batch_size)
        data = mailto_files(plan, self.config, self.rendered)
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
