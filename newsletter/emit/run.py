"""`emit`: one issue to every subscriber in a list, resumable, never twice without --force."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..compose import find_issue
from ..errors import NewsletterError, OutputError, Problem
from ..ledger import Entry, Ledger
from ..message import now
from ..models import Subscriber
from ..output import remove_leftovers, write_all_atomic
from ..project import Project
from ..render import Renderer
from ..subscribers.addresses import address_key
from ..subscribers.lists import CsvList, StoreList
from .drafts import OUTBOX, DraftWriter
from .mailto_links import mailto_files, plan_mailto

MODES = ("eml", "bcc", "mailto")
CHUNK = 500  # subscribers looked up in the ledger at once
RecipientList = CsvList | StoreList


class NothingEmittedError(NewsletterError):
    """Every row of the list was refused: the list, not the run, needs fixing."""


@dataclass
class EmitReport:
    issue_id: str
    mode: str
    folder: Path
    emitted: int = 0
    already: int = 0
    files: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recovered: int = 0


def emit_issue(project: Project, ref: str | None, *, mode: str, recipients: RecipientList,
               out_dir: Path, batch_size: int = 50, force: bool = False,
               progress: Callable[[int], None] | None = None,
               total: Callable[[int], None] | None = None) -> EmitReport:
    """Emit the issue named by `ref` to `recipients` under out_dir/<issue-id>/.

    The issue is rendered once. Subscribers already recorded in the ledger are
    skipped (reported as `already`) unless `force`. `total` is told the number of
    rows up front and `progress` each row handled, for a progress bar.
    """
    if mode not in MODES:
        raise NewsletterError(f"unknown mode {mode!r}", f"use one of: {', '.join(MODES)}")
    if batch_size < 1:
        raise NewsletterError("--batch-size must be at least 1", "for example --batch-size 50")
    issue = find_issue(project.issues, ref)
    rendered = Renderer(project.root, project.config).render(issue)
    folder = out_dir / issue.id
    report = EmitReport(issue.id, mode, folder)
    if total:
        total(recipients.count())
    with _exclusive(folder), Ledger(folder) as ledger:
        report.recovered = _recover(folder, ledger)
        if force:
            _start_over(folder, ledger, report)
        fresh = _fresh_subscribers(recipients, ledger, report, progress)
        if mode == "mailto":
            _emit_mailto(folder, project, rendered, ledger, list(_flatten(fresh)), batch_size,
                         report)
        else:
            writer = DraftWriter(folder, project.config, rendered, mode, ledger, batch_size,
                                 now())
            for chunk in fresh:
                writer.add(chunk)
            writer.close()
            report.emitted = writer.emitted
            report.files = [OUTBOX] if writer.files_written else []
            if writer.files_written:
                report.notes.append(f"{writer.files_written} draft(s) in "
                                    f"{OUTBOX}/: open each in your mail app and send it")
    if report.emitted == 0 and report.already == 0 and report.skipped:
        raise NothingEmittedError(
            f"nothing emitted: all {len(report.skipped)} row(s) of {recipients.label} were "
            "refused", "fix the addresses listed above")
    return report


def _fresh_subscribers(recipients: RecipientList, ledger: Ledger, report: EmitReport,
                       progress: Callable[[int], None] | None) -> Iterator[list[Subscriber]]:
    """Chunks of valid, first-seen subscribers who do not have the issue yet."""
    seen: set[bytes] = set()  # 8-byte digests: flat memory for long lists
    chunk: list[Subscriber] = []
    for row in recipients.rows():
        if progress:
            progress(1)
        if row.subscriber is None:
            report.skipped.append(row.problem)
            continue
        digest = hashlib.blake2b(address_key(row.subscriber.email).encode(), digest_size=8).digest()
        if digest in seen:
            report.skipped.append(Problem(recipients.label, row.line, "email",
                                          f"{row.subscriber.email} is listed twice (case is "
                                          "ignored); emitted once", "remove the repeated row"))
            continue
        seen.add(digest)
        chunk.append(row.subscriber)
        if len(chunk) >= CHUNK:
            yield _not_done(chunk, ledger, report)
            chunk = []
    if chunk:
        yield _not_done(chunk, ledger, report)


def _not_done(chunk: list[Subscriber], ledger: Ledger, report: EmitReport) -> list[Subscriber]:
    done = ledger.done_keys(address_key(s.email) for s in chunk)
    report.already += len(done)
    return [s for s in chunk if address_key(s.email) not in done]


def _flatten(chunks: Iterator[list[Subscriber]]) -> Iterator[Subscriber]:
    for chunk in chunks:
        yield from chunk


def _emit_mailto(folder: Path, project: Project, rendered, ledger: Ledger,
                 subscribers: list[Subscriber], batch_size: int, report: EmitReport) -> None:
    if not subscribers:
        return
    plan = plan_mailto(project.config, rendered, subscribers, batch_size)
    files = {folder / name: data for name, data in mailto_files(plan, project.config,
                                                                rendered).items()}
    _keep_previous(folder, [path.name for path in files])
    entries = [Entry(address_key(s.email), s.email, "mailto", "mailto.txt", None)
               for batch in plan.batches for s in batch.recipients]
    ledger.begin(entries)
    write_all_atomic(files)
    ledger.finish(entries)
    report.emitted = len(entries)
    report.files = sorted(path.name for path in files)
    report.notes += plan.notes
    report.notes.append(f"{len(plan.batches)} link(s): open mailto.html and click them in order")


def _keep_previous(folder: Path, names: list[str]) -> None:
    """A new mailto run keeps the links of the previous one, renamed, not overwritten."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in names:
        old = folder / name
        if old.exists():
            stem, _, suffix = name.partition(".")
            old.rename(folder / f"{stem}-until-{stamp}.{suffix}")


def _recover(folder: Path, ledger: Ledger) -> int:
    """Undo the batch an interrupted run left pending; returns how many files it removed."""
    removed = 0
    for name in ledger.take_pending():
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
            removed += 1
    remove_leftovers(folder / OUTBOX)
    remove_leftovers(folder)
    return removed


def _start_over(folder: Path, ledger: Ledger, report: EmitReport) -> None:
    """--force: earlier drafts are moved aside (not deleted: some may already be sent)."""
    outbox = folder / OUTBOX
    if outbox.is_dir() and any(outbox.iterdir()):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = folder / f"{OUTBOX}-replaced-{stamp}"
        outbox.rename(target)
        report.notes.append(f"--force: the earlier drafts were moved to {target.name}/")
    ledger.forget_all()


@contextlib.contextmanager
def _exclusive(folder: Path):
    """One emit per issue folder at a time: a second one would race on the ledger and files."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / ".emit.lock").open("w")
    except OSError as exc:
        raise OutputError(f"cannot write in {folder}: {exc.strerror}",
                          "check the folder, or pass --out DIR") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another emit of this issue is running in {folder}",
                              "wait for it to finish, then run again") from None
        yield
