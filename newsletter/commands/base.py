"""What every command shares: errors as 'Error:' lines, never a traceback; a progress bar."""

from __future__ import annotations

import os
import sys

import click

from ..errors import NewsletterError
from .terminal import echo


class NewsletterCommand(click.Command):
    """Turns library errors into 'Error: ...' lines and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            for line in exc.lines():
                echo(f"Error: {line}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            # Every write is atomic: an interrupted command leaves old files or new, never half.
            echo("Error: interrupted (hint: files already written are complete; "
                 "run the command again)", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader of our output went away (`send.py status | head -1`): not an error.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            # A bug of ours, not the editor's: still one line, with the way to see more.
            if os.environ.get("NEWSLETTER_DEBUG"):
                raise
            echo(f"Error: internal error: {type(exc).__name__}: {exc} (hint: this is a "
                 "bug; run again with NEWSLETTER_DEBUG=1 for the traceback and report "
                 "it)", err=True)
            ctx.exit(1)


class ProgressBar:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None

    def __enter__(self) -> ProgressBar:
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
