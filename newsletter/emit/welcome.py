"""`welcome`: one welcome to each subscriber in the store who has not had it, never twice.

The welcome goes out through `emit_rendered`, with the modes, ledger and guarantees of an
issue, into one folder for all welcomes over time (out/welcome/): its ledger says who was
welcomed, when and in which mode. Unlike an issue, its text may change between runs (the
editor improves it; the latest issue it links to moves on), so a changed welcome is not
refused: what must hold is that nobody is welcomed twice, which the ledger keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import NewsletterError
from ..render.renderer import WELCOME, RenderedIssue, Renderer
from ..source.config import SITE_DIR
from ..source.project import Project
from ..subscribers.addresses import address_key
from ..subscribers.csvfile import Row
from ..subscribers.lists import RecipientList, StoreList
from ..subscribers.store import SubscriberStore
from .ledger import LEDGER_FILE, Ledger
from .run import EmitReport, emit_rendered
from .versions import render_welcome as render_welcome_versions

FOLDER = WELCOME  # out/welcome/: the welcome's drafts and its ledger


def render_welcome(project: Project) -> RenderedIssue:
    """The welcome as it would go out today (the usual version)."""
    return Renderer(project.root, project.config).render_welcome(project.issues, clock.today())


def emit_welcome(project: Project, store: SubscriberStore, *, mode: str, out_dir: Path,
                 only: Sequence[str] = (), batch_size: int = 50, force: bool = False,
                 progress: Callable[[int], None] | None = None,
                 total: Callable[[int], None] | None = None,
                 options: Mapping[str, Any] | None = None) -> EmitReport:
    """Welcome every subscribed subscriber in `store` (or only the addresses `only` names,
    each of whom must be subscribed) who has not had the welcome, under out_dir/welcome/.
    `force` welcomes again exactly the subscribers listed (all, or `only`)."""
    recipients: RecipientList = StoreList(store)
    if only:
        recipients = _Only(recipients, _subscribed_keys(store, only))
    # Both versions: the discreet one (discreet.welcome_subject) for those who asked for it.
    rendered, discreet = render_welcome_versions(project, clock.today())
    return emit_rendered(project, rendered, FOLDER, mode=mode, recipients=recipients,
                         out_dir=out_dir, batch_size=batch_size, force=force,
                         progress=progress, total=total, options=options, discreet=discreet,
                         one_version=False, notes=_latest_page_note(project, rendered))


def awaiting(store: SubscriberStore, out_dir: Path) -> int:
    """How many subscribed subscribers in `store` have not had the welcome yet under
    `out_dir` (for `status`). Reads the ledger only: nothing is created."""
    keys = [address_key(subscriber.email) for subscriber in store.active()]
    if not (out_dir / FOLDER / LEDGER_FILE).exists():
        return len(keys)
    with Ledger(out_dir / FOLDER) as ledger:
        return len(keys) - len(ledger.done_keys(keys))


def _latest_page_note(project: Project, rendered: RenderedIssue) -> list[str]:
    """The welcome links to the latest issue's page: say so while site/ does not have it."""
    latest = rendered.issue
    if latest.id == WELCOME or (project.root / SITE_DIR / latest.id / "index.html").exists():
        return []
    return [f"The welcome links to the latest issue's page, {project.config.web_url(latest.id)}"
            f": publish it before sending (`send.py archive`, then upload {SITE_DIR}/)."]


def _subscribed_keys(store: SubscriberStore, addresses: Sequence[str]) -> set[str]:
    """The keys of `addresses`, each of whom must be subscribed: a typo is an error before
    anything is written, never a silent nothing."""
    active = {address_key(subscriber.email) for subscriber in store.active()}
    keys = {address_key(address) for address in addresses}
    missing = [address for address in addresses if address_key(address) not in active]
    if missing:
        raise NewsletterError(f"not subscribed in the store: {', '.join(missing)}",
                              "check the address with `send.py subscribers show EMAIL`")
    return keys


@dataclass(frozen=True)
class _Only:
    """The rows of `recipients` whose address is one of `keys`."""

    recipients: RecipientList
    keys: set[str]

    @property
    def label(self) -> str:
        return self.recipients.label

    def check(self) -> int:
        self.recipients.check()
        return len(self.keys)

    def may_be_discreet(self) -> bool:
        return self.recipients.may_be_discreet()

    def rows(self) -> Iterator[Row]:
        for row in self.recipients.rows():
            if row.subscriber is not None and address_key(row.subscriber.email) in self.keys:
                yield row
