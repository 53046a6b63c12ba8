"""`welcome`: one welcome to each new subscriber in the store, once, in any emit mode."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ..emit import modes
from ..emit.smtp import RESEND_UNCERTAIN, SmtpMode, SmtpOutcome
from ..emit.welcome import emit_welcome
from ..errors import display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..mail.mailto import CONFIG_CHECKS
from ..source.project import load_project
from ..subscribers.store import open_existing_store
from .base import BadValue, NewsletterCommand, ProgressBar
from .emit import _ModeChoice, _ModeOption
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.argument("emails", metavar="[EMAIL]...", nargs=-1)
@click.option("--mode", cls=_ModeOption, type=_ModeChoice(), default=modes.DEFAULT,
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write welcome/ into.  [default: out/ in the project]")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True,
              help="Most recipients per Bcc draft or mailto: link (mail accounts cap them).")
@click.option("--force", is_flag=True,
              help="Welcome again the subscribers listed (every one, or the EMAILs given) who "
                   "had the welcome (smtp: retry the failed ones; a message sent is never "
                   "sent again).")
@click.option("--resend-uncertain", is_flag=True,
              help="smtp: send again the welcomes whose server reply was lost (listed as "
                   "uncertain), with the same Message-ID.")
@click.pass_obj
def welcome(project_dir: Path, emails: tuple[str, ...], mode: str, out_dir: Path | None,
            batch_size: int, force: bool, resend_uncertain: bool) -> None:
    """Welcome every subscriber in the store who has not had the welcome (or only the EMAILs
    given): once each, resumable, in out/welcome/."""
    if resend_uncertain and mode != SmtpMode.name:
        raise BadValue("--resend-uncertain: only --mode smtp sends messages (hint: add "
                       "--mode smtp)")
    project = load_project(project_dir, CONFIG_CHECKS)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_existing_store(project_dir))
        bar = stack.enter_context(ProgressBar("Sending" if mode == SmtpMode.name
                                              else "Emitting"))
        report = emit_welcome(project, store, mode=mode, out_dir=out_dir or project_dir / "out",
                              only=emails, batch_size=batch_size, force=force,
                              progress=bar.step, total=bar.start,
                              options={RESEND_UNCERTAIN: resend_uncertain})
    for problem in report.skipped:
        echo(f"Skipped: {problem}", err=True)
    if report.recovered:
        echo(f"Resumed: removed {report.recovered} file(s) an interrupted run left "
             "unfinished; their subscribers were welcomed again.")
    echo(f"Welcomed {report.emitted} subscriber(s) ({report.mode}) in "
         f"{display_path(report.folder)}/")
    if report.already:
        again = ("a message sent is never sent again" if mode == SmtpMode.name
                 else "--force welcomes them again")
        echo(f"{report.already} subscriber(s) had the welcome already and were left out "
             f"({again}).")
    if report.skipped:
        echo(f"{len(report.skipped)} subscriber(s) skipped, listed above.")
    for note in report.notes:
        echo(note)
    if isinstance(report.outcome, SmtpOutcome) and report.outcome.interrupted:
        raise click.exceptions.Exit(130)
