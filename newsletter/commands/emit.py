"""`emit`: an issue ready to send from the editor's mail app (drafts or mailto: links), or
sent through the smtp: server."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ..emit import modes
from ..emit.run import emit_issue
from ..emit.smtp import RESEND_UNCERTAIN, SmtpMode, SmtpOutcome
from ..errors import display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..mail.mailto import CONFIG_CHECKS
from ..source.project import load_project
from ..subscribers.lists import CsvList, StoreList
from ..subscribers.store import open_existing_store
from .base import BadValue, NewsletterCommand, ProgressBar
from .terminal import echo


class _ModeChoice(click.Choice):
    """The registry's names, read when asked: a mode registered after import counts too."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(modes.MODES)

    @choices.setter
    def choices(self, _value: object) -> None:
        pass  # click.Choice.__init__ sets it; the registry is the only source


class _ModeOption(click.Option):
    """--mode, with each registered mode's one line of help."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = modes.help_text()
        return super().get_help_record(ctx)


@click.command(cls=NewsletterCommand)
@click.argument("issue")
@click.option("--mode", cls=_ModeOption, type=_ModeChoice(), default=modes.DEFAULT,
              show_default=True)
@click.option("--subscribers", "subscribers_csv",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV with the columns email,name.  [default: the subscriber store]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <issue-id>/ into.  [default: out/ in the project]")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True,
              help="Most recipients per Bcc draft or mailto: link (mail accounts cap them).")
@click.option("--force", is_flag=True,
              help="Emit again to subscribers who already have this issue (smtp: retry the "
                   "failed ones; a message sent is never sent again).")
@click.option("--resend-uncertain", is_flag=True,
              help="smtp: send again the messages whose server reply was lost (listed as "
                   "uncertain), with the same Message-ID.")
@click.pass_obj
def emit(project_dir: Path, issue: str, mode: str, subscribers_csv: Path | None,
         out_dir: Path | None, batch_size: int, force: bool, resend_uncertain: bool) -> None:
    """Make ISSUE ready to send from your own mail app (drafts or mailto: links), or send it
    through the smtp: server; resumable, never twice without --force."""
    if resend_uncertain and mode != SmtpMode.name:
        raise BadValue("--resend-uncertain: only --mode smtp sends messages (hint: add "
                       "--mode smtp)")
    project = load_project(project_dir, CONFIG_CHECKS)
    with contextlib.ExitStack() as stack:
        if subscribers_csv is not None:
            recipients = CsvList(subscribers_csv)
        else:
            recipients = StoreList(stack.enter_context(open_existing_store(project_dir)))
        bar = stack.enter_context(ProgressBar("Sending" if mode == SmtpMode.name
                                              else "Emitting"))
        report = emit_issue(project, issue, mode=mode, recipients=recipients,
                            out_dir=out_dir or project_dir / "out", batch_size=batch_size,
                            force=force, progress=bar.step, total=bar.start,
                            options={RESEND_UNCERTAIN: resend_uncertain})
    for problem in report.skipped:
        echo(f"Skipped: {problem}", err=True)
    for problem in report.cleaned:
        echo(f"Cleaned: {problem}", err=True)
    if report.recovered:
        echo(f"Resumed: removed {report.recovered} file(s) an interrupted run left "
             "unfinished; their subscribers were emitted again.")
    where = display_path(report.folder)
    echo(f"Emitted issue {report.issue_id} to {report.emitted} subscriber(s) "
         f"({report.mode}) in {where}/")
    if report.already and mode == SmtpMode.name:
        echo(f"{report.already} subscriber(s) already had this issue and were left out "
             "(a message sent is never sent again).")
    elif report.already:
        echo(f"{report.already} subscriber(s) already had this issue and were left out "
             "(--force emits to them again).")
    if report.skipped:
        echo(f"{len(report.skipped)} row(s) skipped, listed above.")
    for note in report.notes:
        echo(note)
    if isinstance(report.outcome, SmtpOutcome) and report.outcome.interrupted:
        raise click.exceptions.Exit(130)
