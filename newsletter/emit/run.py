"""`emit`: one issue to every subscriber in a list, resumable, never twice without --force."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import NewsletterError, OutputError, Problem
from ..mail.message import now
from ..output import (
    check_out_dir,
    flush_to_disk,
    output_error,
    private_folder,
    remove_leftovers,
    unique_path,
)
from ..render.renderer import RenderedIssue
from ..source.compose import find_issue
from ..source.config import SITE_DIR
from ..source.models import Subscriber
from ..source.project import Project
from ..subscribers.addresses import address_key
from ..subscribers.csvfile import Row
from ..subscribers.lists import RecipientList
from ..subscribers.store import check_file_not_in_git
from . import modes
from .context import EmitMode, IssueContext
from .ledger import LEDGER_FILE, Ledger, ledger_files
from .versions import check_same_versions, refuse_unsendable, render_issue

CHUNK = 500  # subscribers looked up in the ledger at once


class NothingEmittedError(NewsletterError):
    """The list gave nobody to emit to: it is empty, or every row was refused."""

    def __init__(self, refused: list[Problem], label: str) -> None:
        self.refused = refused
        if refused:
            super().__init__(f"nothing emitted: all {len(refused)} row(s) of {label} were "
                             "refused", "fix the rows listed above")
        else:
            super().__init__(f"nothing emitted: {label} has no subscribers",
                             "check the list, or import the signup mailbox first")

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.refused] + super().lines()


@dataclass
class EmitReport:
    issue_id: str
    mode: str
    folder: Path
    emitted: int = 0
    already: int = 0
    skipped: list[Problem] = field(default_factory=list)
    cleaned: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recovered: int = 0
    uncertain: int = 0  # left out: their SMTP message may have arrived (modes but smtp)
    outcome: Any = None  # the mode's own account of the run (smtp: SmtpOutcome)


def emit_issue(project: Project, ref: str | None, *, mode: str, recipients: RecipientList,
               out_dir: Path, batch_size: int = 50, force: bool = False,
               progress: Callable[[int], None] | None = None,
               total: Callable[[int], None] | None = None,
               options: Mapping[str, Any] | None = None) -> EmitReport:
    """Emit the issue named by `ref` to `recipients` under out_dir/<issue-id>/.

    The issue is rendered once per version (the discreet one too, with a discreet:
    section), then emitted by `emit_rendered`. If the issue changed since some subscribers
    got it, emitting to the rest is refused unless `force`.
    """
    _mode_class(mode, project, batch_size)
    issue = find_issue(project.issues, ref)
    rendered, discreet = render_issue(project, issue)
    return emit_rendered(project, rendered, issue.id, mode=mode, recipients=recipients,
                         out_dir=out_dir, batch_size=batch_size, force=force,
                         progress=progress, total=total, options=options, discreet=discreet,
                         one_version=True, notes=_web_page_note(project, rendered))


def emit_rendered(project: Project, rendered: RenderedIssue, name: str, *, mode: str,
                  recipients: RecipientList, out_dir: Path, batch_size: int = 50,
                  force: bool = False, progress: Callable[[int], None] | None = None,
                  total: Callable[[int], None] | None = None,
                  options: Mapping[str, Any] | None = None, one_version: bool = True,
                  notes: list[str] | None = None,
                  discreet: RenderedIssue | None = None) -> EmitReport:
    """Emit an already rendered message to `recipients` under out_dir/`name`/.

    Subscribers already recorded in that folder's ledger are skipped (reported as
    `already`) unless `force`, which emits again to everyone in `recipients` (and to
    nobody else). `one_version`: refuse, without `force`, a message whose text changed
    since the ledger first recorded anyone (an issue; the welcome may change). `notes`
    are reported after the run's own. `total` is told the number of rows up front and
    `progress` each row handled, for a progress bar. `options`: the mode's own.
    `discreet`: the discreet version, for subscribers who asked for it (emit/versions.py).

    Everything that can be checked is checked before the output folder is touched:
    the drafts' headers, where they go (never where git would pick them up) and the
    whole list (read twice, so a long list costs no memory). A run that fails before
    recording anyone removes what it created.
    """
    mode_class = _mode_class(mode, project, batch_size)
    refuse_unsendable(project, rendered, discreet, recipients, mode_class)
    folder = out_dir / name
    context = IssueContext(folder, project.config, rendered, discreet, batch_size, now(), force,
                           options or {}, progress)
    prepared = mode_class.prepare(context)
    check_out_dir(out_dir)
    check_file_not_in_git(folder, "drafts and the ledger (--out DIR)", folder=True)
    sender = address_key(project.config.sender.email)
    rows, usable, refused = _survey(recipients, sender)
    if not usable:
        raise NothingEmittedError(refused, recipients.label)
    report = EmitReport(name, mode, folder)
    if total:
        total(rows)
    with _claim(folder) as claim, Ledger(folder) as ledger:
        claim.ledger = ledger
        report.recovered = _recover(folder, ledger)
        note = (check_same_versions(ledger, rendered, discreet, force) if one_version
                else None)  # notes who gets the discreet version, before the mode writes
        run = _run_id(ledger, force)
        mover = _Mover(folder, ledger, run) if force else None
        writer = mode_class(context.opened(ledger, run, prepared))
        by_mode, given = mode_class.reports_progress, 0
        try:  # release: the mode's processes and connections go, whatever happens
            for chunk in _fresh_subscribers(recipients, sender, ledger, report, progress, mover,
                                            by_mode):
                if not (mode_class.handles_uncertain or force):
                    chunk = _without_uncertain(chunk, ledger, report)
                given += len(chunk)
                if note is not None:
                    note(chunk)
                writer.add(chunk)
            report.notes += notes or []
            report.notes += writer.close()
        finally:
            writer.release()
        if report.uncertain:
            report.notes.append(
                f"{report.uncertain} subscriber(s) got no {mode} draft: an SMTP message to them "
                "may have arrived (its reply was lost). `--mode smtp --resend-uncertain` sends "
                "it again, with the same Message-ID; --force makes them a draft anyway.")
        report.emitted = writer.emitted
        report.outcome = writer.outcome
        if mover is not None:
            report.notes += mover.notes()
            ledger.set_meta(FORCE_RUN, None)
        if given == 0 and report.already == 0:  # the list changed since the survey
            raise NothingEmittedError(report.skipped, recipients.label)
    return report


def _mode_class(mode: str, project: Project, batch_size: int) -> type[EmitMode]:
    """The mode, if this project can use it, and the batch size, checked before any work."""
    mode_class = modes.mode_class(mode, project.config)
    if batch_size < 1:
        raise NewsletterError("--batch-size must be at least 1", "for example --batch-size 50")
    return mode_class


def _refusal(row: Row, sender: str, label: str) -> Problem | None:
    """Why a row is not emitted to, or None: an invalid address, or the newsletter's own
    (a bcc draft would have it in To and Bcc; the importer ignores mail from it too)."""
    if row.subscriber is None:
        return row.problem
    if address_key(row.subscriber.email) == sender:
        return Problem(label, row.line, "email", f"{row.subscriber.email} is the newsletter's "
                       "own address (the sender); left out", "remove the row")
    return None


def _survey(recipients: RecipientList, sender: str) -> tuple[int, bool, list[Problem]]:
    """(rows, whether anyone can be emitted to, else every row's problem). The whole list
    is read, so one that cannot be read stops the run before the first draft; addresses
    are checked only until one is usable."""
    rows = recipients.check()
    refused: list[Problem] = []
    for row in recipients.rows():
        problem = _refusal(row, sender, recipients.label)
        if problem is None:
            return rows, True, []
        refused.append(problem)
    return rows, False, refused


FORCE_RUN = "force_run"  # set while a --force run is under way, so a rerun can finish it


def _run_id(ledger: Ledger, force: bool) -> str:
    """This run's id; an interrupted --force run's id is taken up again to finish it."""
    unfinished = ledger.meta(FORCE_RUN)
    if unfinished and not force:
        raise NewsletterError("an earlier --force run of this issue was interrupted",
                              "run the same command again with --force to finish it")
    if force:
        run = unfinished or uuid.uuid4().hex
        ledger.set_meta(FORCE_RUN, run)
        return run
    return uuid.uuid4().hex


class _Mover:
    """--force: the earlier drafts of this list's subscribers move to a folder of their own
    (moved, not deleted: some may have been sent already); the ledger forgets them after."""

    def __init__(self, folder: Path, ledger: Ledger, run: str) -> None:
        self.folder, self.ledger, self.run = folder, ledger, run
        self.target: Path | None = None
        self.moved = 0

    def release(self, keys: list[str]) -> None:
        files = self.ledger.files_of(keys, except_run=self.run)
        for name in files:
            for path in modes.with_companions(self.folder / name):
                if path.exists():
                    if self.target is None:
                        stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
                        self.target = unique_path(self.folder / f"replaced-{stamp}")
                        self.target.mkdir(mode=0o700)
                    path.rename(unique_path(self.target / path.name))
                    self.moved += 1
        if files:  # after the move: a kill in between redoes it
            self.ledger.forget_files(keys, self.run)

    def notes(self) -> list[str]:
        if not self.moved:
            return []
        return [f"--force: {self.moved} earlier file(s) moved to {self.target.name}/"]


def _fresh_subscribers(recipients: RecipientList, sender: str, ledger: Ledger,
                       report: EmitReport,
                       progress: Callable[[int], None] | None,
                       mover: _Mover | None,
                       by_mode: bool = False) -> Iterator[list[Subscriber]]:
    """Chunks of valid, first-seen subscribers who do not have the issue yet. `progress`
    counts each row as read, or with `by_mode` only those not given to the mode."""
    seen: set[bytes] = set()  # 8-byte digests: flat memory for long lists
    chunk: list[Subscriber] = []
    label = recipients.label  # a CSV's is its path as shown: worked out once, not per row
    for row in recipients.rows():
        if progress and not by_mode:
            progress(1)
        if row.warning is not None:
            report.cleaned.append(row.warning)
        problem = _refusal(row, sender, label)
        if problem is not None:
            report.skipped.append(problem)
            if progress and by_mode:
                progress(1)
            continue
        digest = hashlib.blake2b(address_key(row.subscriber.email).encode(), digest_size=8).digest()
        if digest in seen:
            report.skipped.append(Problem(label, row.line, "email",
                                          f"{row.subscriber.email} is listed twice (case is "
                                          "ignored); emitted once", "remove the repeated row"))
            if progress and by_mode:
                progress(1)
            continue
        seen.add(digest)
        chunk.append(row.subscriber)
        if len(chunk) >= CHUNK:
            yield _not_done(chunk, ledger, report, mover, progress if by_mode else None)
            chunk = []
    if chunk:
        yield _not_done(chunk, ledger, report, mover, progress if by_mode else None)


def _not_done(chunk: list[Subscriber], ledger: Ledger, report: EmitReport,
              mover: _Mover | None,
              progress: Callable[[int], None] | None = None) -> list[Subscriber]:
    keys = [address_key(s.email) for s in chunk]
    if mover is not None:
        mover.release(keys)
    done = ledger.done_keys(keys)
    report.already += len(done)
    if progress and done:
        progress(len(done))
    return [s for s, key in zip(chunk, keys, strict=True) if key not in done]


def _without_uncertain(chunk: list[Subscriber], ledger: Ledger,
                       report: EmitReport) -> list[Subscriber]:
    """The chunk less those whose SMTP message is 'sending' (the server may have it)."""
    rows = ledger.rows_of([address_key(s.email) for s in chunk])
    kept = [s for s in chunk if getattr(rows.get(address_key(s.email)), "state", 0) != "sending"]
    report.uncertain += len(chunk) - len(kept)
    return kept


def _web_page_note(project: Project, rendered: RenderedIssue) -> list[str]:
    """Each email links to the issue's web page: a reader who follows it must not land on
    a missing page, so say so while site/ has no page for the issue."""
    issue = rendered.issue
    if (project.root / SITE_DIR / issue.id / "index.html").exists():
        return []
    return [f"The email links to its web page, {project.config.web_url(issue.id)}: publish it "
            f"before sending (`send.py archive` on or after {issue.date.isoformat()}, then "
            f"upload {SITE_DIR}/)."]


def _recover(folder: Path, ledger: Ledger) -> int:
    """Undo the batch an interrupted run left pending; returns how many files it removed.

    Files go first, rows after: a kill in between leaves rows whose files are gone,
    which the next run cleans up the same way.
    """
    removed = 0
    for name in ledger.pending_files():
        for path in modes.with_companions(folder / name):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    if removed:
        flush_to_disk(folder)
    ledger.drop_pending()
    for name in modes.folders():
        remove_leftovers(folder / name)
    remove_leftovers(folder)
    return removed


@dataclass
class _Claim:
    ledger: Ledger | None = None


@contextlib.contextmanager
def _claim(folder: Path) -> Iterator[_Claim]:
    """One emit per issue folder at a time (a second one would race on the ledger and
    files), in a private folder. If the run fails before the ledger records anyone, what
    it created (folders, lock, ledger) is removed again, under the lock: the folder is
    left as it was found."""
    made = _missing(folder)
    lock = folder / ".emit.lock"
    new_lock = not lock.exists()
    try:
        private_folder(folder)
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        _remove_folders(made)
        raise output_error(exc, folder) from None
    with os.fdopen(fd, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another emit of this issue is running in {folder}",
                              "wait for it to finish, then run again") from None
        os.fchmod(fd, 0o600)  # a lock left by an older version may be 0644
        new_ledger = not (folder / LEDGER_FILE).exists()
        new_folders = [folder / name for name in modes.folders()
                       if not (folder / name).exists()]
        claim = _Claim()
        try:
            yield claim
        except BaseException:
            if claim.ledger is None or not claim.ledger.recorded:
                if new_ledger:
                    for path in ledger_files(folder):
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
                for path in new_folders:  # each on its own: none is inside another
                    _remove_folders([path])
                if new_lock:
                    lock.unlink()
                _remove_folders(made)
            raise


def _missing(folder: Path) -> list[Path]:
    """`folder` and its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_folders(folders: list[Path]) -> None:
    """Remove these folders (deepest first) while they are empty."""
    for path in folders:
        try:
            path.rmdir()
        except OSError:
            return
