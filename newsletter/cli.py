"""The click group: each command parses options, calls the library, prints the outcome."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .build import build_issue
from .errors import NewsletterError, display_path
from .project import load_project


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


def _size(size: int) -> str:
    return f"{size} B" if size < 1000 else f"{size / 1000:.1f} KB"


def main() -> None:
    cli(prog_name="send.py")


if __name__ == "__main__":
    sys.exit(main())
