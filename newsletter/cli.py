"""The click group: each command parses options, calls the library, prints the outcome."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from . import __version__
from .build import build_issue
from .config import load_config
from .emit.run import MODES, emit_issue
from .errors import NewsletterError, display_path
from .mailto import unsubscribe_link
from .project import load_project
from .signup import signup_html
from .subscribers.imap import PASSWORD_VARIABLE
from .subscribers.importer import import_imap, import_local
from .subscribers.lists import CsvList, StoreList
from .subscribers.report import describe, export_records, format_records
from .subscribers.store import open_existing_store, open_store


class NewsletterCommand(click.Command):
    """Turns library errors into 'Error: ...' lines and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            for line in exc.lines():
                click.echo(f"Error: {line}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            # Every write is atomic: an interrupted command leaves old files or new, never half.
            click.echo("Error: interrupted (hint: files already written are complete; "
                       "run the command again)", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # A bug of ours, not the editor's: still one line, with the way to see more.
            if os.environ.get("NEWSLETTER_DEBUG"):
                raise
            click.echo(f"Error: internal error: {type(exc).__name__}: {exc} (hint: this is a "
                       "bug; run again with NEWSLETTER_DEBUG=1 for the traceback and report "
                       "it)", err=True)
            ctx.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="send.py")
@click.option("--project", "project_dir",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=".", show_default=True,
              help="The project folder: newsletter.yaml, content/, digests/, templates/.")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path) -> None:
    """Make the Mindshape newsletter: content chunks -> issue -> email."""
    ctx.obj = project_dir


@cli.command(cls=NewsletterCommand)
@click.argument("issue", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <issue-id>/ into.  [default: out/ in the project]")
@click.pass_obj
def build(project_dir: Path, issue: str | None, out_dir: Path | None) -> None:
    """Render ISSUE (an id or number; the latest when omitted) to HTML, text and a review .eml."""
    project = load_project(project_dir)
    result = build_issue(project, issue, out_dir or project_dir / "out")
    for path, size in result.files:
        click.echo(f"wrote {display_path(path):<40} {_size(size):>9}")
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)


@cli.command(cls=NewsletterCommand)
@click.argument("issue")
@click.option("--mode", type=click.Choice(MODES), default="eml", show_default=True,
              help="eml: a draft per subscriber; bcc: drafts with up to N subscribers in Bcc; "
                   "mailto: links to click.")
@click.option("--subscribers", "subscribers_csv",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV with the columns email,name.  [default: the subscriber store]")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <issue-id>/ into.  [default: out/ in the project]")
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True,
              help="Most recipients per Bcc draft or mailto: link (mail accounts cap them).")
@click.option("--force", is_flag=True,
              help="Emit again to subscribers who already have this issue.")
@click.pass_obj
def emit(project_dir: Path, issue: str, mode: str, subscribers_csv: Path | None,
         out_dir: Path | None, batch_size: int, force: bool) -> None:
    """Make ISSUE ready to send from your own mail app: drafts or mailto: links, resumable."""
    project = load_project(project_dir)
    with contextlib.ExitStack() as stack:
        if subscribers_csv is not None:
            recipients = CsvList(subscribers_csv)
        else:
            recipients = StoreList(stack.enter_context(open_existing_store(project_dir)))
        bar = stack.enter_context(_ProgressBar("Emitting"))
        report = emit_issue(project, issue, mode=mode, recipients=recipients,
                            out_dir=out_dir or project_dir / "out", batch_size=batch_size,
                            force=force, progress=bar.step, total=bar.start)
    for problem in report.skipped:
        click.echo(f"Skipped: {problem}", err=True)
    for problem in report.cleaned:
        click.echo(f"Cleaned: {problem}", err=True)
    if report.recovered:
        click.echo(f"Resumed: removed {report.recovered} file(s) an interrupted run left "
                   "unfinished; their subscribers were emitted again.")
    where = display_path(report.folder)
    click.echo(f"Emitted issue {report.issue_id} to {report.emitted} subscriber(s) "
               f"({report.mode}) in {where}/")
    if report.already:
        click.echo(f"{report.already} subscriber(s) already had this issue and were left out "
                   "(--force emits to them again).")
    if report.skipped:
        click.echo(f"{len(report.skipped)} row(s) skipped, listed above.")
    for note in report.notes:
        click.echo(note)


@cli.command(cls=NewsletterCommand)
@click.pass_obj
def signup(project_dir: Path) -> None:
    """Print the site's signup box and the unsubscribe link, both from newsletter.yaml."""
    config = load_config(project_dir)
    click.echo("Signup box for the site (HTML):\n")
    click.echo(signup_html(config).rstrip("\n"))
    click.echo(f"\nUnsubscribe link (also in every email and its List-Unsubscribe header):\n"
               f"{unsubscribe_link(config)}")


@cli.group()
def subscribers() -> None:
    """The subscriber list: import the signup mailbox, look, export, forget.

    The store lives in .subscribers/ in the project (git-ignored), or in $NEWSLETTER_STORE.
    Nothing is ever sent anywhere.
    """


@subscribers.command("import", cls=NewsletterCommand)
@click.argument("source")
@click.pass_obj
def subscribers_import(project_dir: Path, source: str) -> None:
    """Read SOURCE (an mbox file, a Maildir, a folder of .eml, or imaps://user@host/FOLDER).

    The IMAP password comes from $NEWSLETTER_IMAP_PASSWORD, never from a file or the
    command line. Importing the same mail again changes nothing.
    """
    config = load_config(project_dir)
    with open_store(project_dir) as store:
        if source.startswith(("imaps://", "imap://")):
            # A password pasted into an env file often keeps its line break.
            password = os.environ.get(PASSWORD_VARIABLE, "").rstrip("\r\n")
            summary = import_imap(store, source, config, password=password)
        else:
            summary = import_local(store, Path(source), config)
    click.echo(f"Read {summary.read} message(s) from {source}"
               + (f" ({summary.already_read} read before)" if summary.already_read else "") + ".")
    click.echo(f"{summary.new} new, {summary.unsubscribed} unsubscribed, {summary.bouncing} "
               f"bouncing, {len(summary.not_understood)} not understood.")
    extra = [(summary.resubscribed, "subscribed again"), (summary.auto_replies, "auto-replies "
             "ignored"), (summary.unchanged, "requests that changed nothing (older or repeated)"),
             (summary.suppressed, "requests from forgotten addresses ignored")]
    for count, what in extra:
        if count:
            click.echo(f"{count} {what}.")
    if summary.not_understood:
        click.echo("Not understood (look at these yourself):")
        for where, subject, date in summary.not_understood:
            click.echo(f"  {where}  {date}  {subject}")
    for address, flag in summary.flagged:
        click.echo(f"Flagged: {address}: {flag}")
    for where, reason in summary.malformed:
        click.echo(f"Skipped: {where}: {reason}", err=True)


@subscribers.command("list", cls=NewsletterCommand)
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]),
              default="table", show_default=True)
@click.pass_obj
def subscribers_list(project_dir: Path, output_format: str) -> None:
    """Everyone in the store, with their status and since when."""
    with open_existing_store(project_dir) as store:
        click.echo(format_records(store.records(), output_format), nl=False)


@subscribers.command("show", cls=NewsletterCommand)
@click.argument("email")
@click.pass_obj
def subscribers_show(project_dir: Path, email: str) -> None:
    """One subscriber: status, the proof of consent, every request read."""
    with open_existing_store(project_dir) as store:
        click.echo(describe(store, email), nl=False)


@subscribers.command("export", cls=NewsletterCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def subscribers_export(project_dir: Path, file: Path) -> None:
    """Write every record with its proof of consent to FILE (CSV, readable only by you)."""
    with open_existing_store(project_dir) as store:
        count = export_records(store, file)
    click.echo(f"Wrote {count} record(s) to {display_path(file)} (mode 0600). It names "
               "subscribers: keep it on this machine.")


@subscribers.command("forget", cls=NewsletterCommand)
@click.argument("email")
@click.pass_obj
def subscribers_forget(project_dir: Path, email: str) -> None:
    """Erase every record of EMAIL; old mail read again will not bring it back."""
    with open_existing_store(project_dir) as store:
        found = store.forget(email)
    if found:
        click.echo(f"Forgot {email}: every record erased; only a salted hash is kept so that "
                   "re-importing old mail does not add it again.")
    else:
        click.echo(f"{email} was not in the store; a salted hash is kept so that old mail "
                   "does not add it.")


class _ProgressBar:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None

    def __enter__(self) -> _ProgressBar:
        return self

    def start(self, length: int) -> None:
        if sys.stderr.isatty() and length:
            self.bar = click.progressbar(length=length, label=self.label, file=sys.stderr)
            self.bar.__enter__()

    def step(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)


def _size(size: int) -> str:
    return f"{size} B" if size < 1000 else f"{size / 1000:.1f} KB"


def main() -> None:
    cli(prog_name="send.py")


if __name__ == "__main__":
    sys.exit(main())
