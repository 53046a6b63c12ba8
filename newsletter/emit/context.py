"""What an emit mode is: the protocol `emit_issue` drives, and the context it is built from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..errors import RenderError
from ..mail.message import MessageFactories
from ..render.renderer import RenderedIssue
from ..source.config import Config
from ..source.models import Subscriber
from .ledger import Ledger

DISCREET_HINT = ("add a discreet: section to newsletter.yaml (README, \"Discreet mode\"): "
                 "they must never get the usual version, whose inbox line says what it is")


@dataclass(frozen=True)
class IssueContext:
    """What is known before the output folder is touched (`folder` is only a path yet).

    `options` are a mode's own command-line options (smtp's `resend_uncertain`);
    `progress` is told each subscriber handled when the mode `reports_progress`.
    `discreet`: the issue's discreet variant (rendered once, when newsletter.yaml has a
    discreet: section), for the subscribers whose `discreet` is set; `variant(subscriber)`
    picks theirs, `factories(...)` builds a message factory for each."""

    folder: Path
    config: Config
    rendered: RenderedIssue
    discreet: RenderedIssue | None
    batch_size: int
    date: dt.datetime
    force: bool
    options: Mapping[str, Any]
    progress: Callable[[int], None] | None

    def variant(self, subscriber: Subscriber) -> RenderedIssue:
        """The rendered issue this subscriber gets: the discreet one if they asked for it."""
        if not subscriber.discreet:
            return self.rendered
        if self.discreet is None:  # emit_rendered refuses such a list before any mode runs
            raise RenderError("a discreet subscriber, and no discreet version to send them",
                              DISCREET_HINT)
        return self.discreet

    def factories(self, *, boundary: str, draft: bool) -> MessageFactories:
        """The run's message factories, one per variant; `.of(subscriber)` picks one."""
        return MessageFactories(self.config, self.rendered, self.discreet, date=self.date,
                                boundary=boundary, draft=draft)

    def opened(self, ledger: Ledger, run: str, prepared: Any) -> EmitContext:
        return EmitContext(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
                           ledger=ledger, run=run, prepared=prepared)


@dataclass(frozen=True)
class EmitContext(IssueContext):
    """A run's context once the folder is claimed: its ledger, the run's id (a --force
    run's is kept until it finishes) and what the mode's `prepare` returned."""

    ledger: Ledger
    run: str
    prepared: Any


class EmitMode(Protocol):
    """A send path. `emit_issue` calls `prepare` before the output folder is touched (so a
    failure there leaves it as found), builds the mode from the context, feeds it fresh
    subscribers in chunks, then calls `close`. A mode records whom it emitted to with
    the ledger's two steps: `begin` (pending) before anything leaves, `finish` (done)
    once it is safely written; an interrupted run's pending files are removed on resume."""

    name: ClassVar[str]  # the --mode value, and the ledger's `mode` column
    help: ClassVar[str]  # one line for `emit --help`
    disabled_message: ClassVar[str]  # why it cannot run, when `enabled` says no
    folders: ClassVar[tuple[str, ...]]  # subfolders it writes in (cleaned on resume)
    companions: ClassVar[dict[str, str]]  # a ledger file's suffix -> its companion's
    # True: the mode tells context.progress of each subscriber it is given, when it has
    # handled them (sending takes time); else each row counts as read.
    reports_progress: ClassVar[bool]
    # True: the mode gives each subscriber their version (IssueContext.variant, or the
    # factories' .of(subscriber)); a list with a discreet subscriber is refused otherwise.
    versions: ClassVar[bool]
    # True: the mode decides itself about subscribers whose SMTP message may have arrived
    # (the ledger's 'sending': smtp's --resend-uncertain); other modes never get them.
    handles_uncertain: ClassVar[bool]
    emitted: int  # subscribers recorded done so far
    outcome: Any  # what the run did, for the command, beyond notes (None for most modes)

    @classmethod
    def enabled(cls, config: Config) -> bool: ...

    @classmethod
    def prepare(cls, issue: IssueContext) -> Any: ...

    def __init__(self, context: EmitContext) -> None: ...

    def add(self, subscribers: list[Subscriber]) -> None: ...

    def close(self) -> list[str]:
        """Emit what is left; returns notes for the editor."""
        ...

    def release(self) -> None:
        """Let go of what the mode holds (processes, connections); called last, also when
        the run ends in an error before `close`."""
        ...


class BaseMode:
    """Defaults for a mode: always enabled, nothing to prepare, no folders of its own."""

    name: ClassVar[str]
    help: ClassVar[str]
    disabled_message: ClassVar[str] = ""
    folders: ClassVar[tuple[str, ...]] = ()
    companions: ClassVar[dict[str, str]] = {}
    reports_progress: ClassVar[bool] = False
    versions: ClassVar[bool] = False
    handles_uncertain: ClassVar[bool] = False

    def __init__(self, context: EmitContext) -> None:
        self.context = context
        self.emitted = 0
        self.outcome: Any = None

    @classmethod
    def enabled(cls, config: Config) -> bool:
        """Whether this project can use the mode (e.g. SMTP needs its settings)."""
        return True

    def release(self) -> None:
        """Nothing held by default."""

    @classmethod
    def prepare(cls, issue: IssueContext) -> Any:
        """Check and build what can be before the folder is touched; handed back to the
        mode as `context.prepared`."""
        return None
