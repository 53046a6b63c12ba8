"""What every command shares: errors as 'Error:' lines, never a traceback; a progress bar.

Exit codes, the same for every command:
  0    done;
  1    anything the editor can fix: a library error, or a bad value for an option or an
       argument (`--out` naming a file, `--port 99999`, a `--subscribers` file that does not
       exist), each as `Error: ... (hint: ...)` lines and nothing else;
  2    the command line itself is wrong: an unknown option or command, a missing argument, an
       extra one. Click's usage text and its `Error:` line, as every click program does;
  130  interrupted (Ctrl-C).
Whether click or the library finds a bad value, the editor sees the same kind of line and code.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import click

from ..errors import NewsletterError
from .terminal import echo, escape


class BadValue(click.ClickException):
    """A bad option or argument value, shown as one escaped `Error:` line; exit code 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        echo(f"Error: {self.message}", err=True)


class ValueErrors:
    """For commands and groups: click's checks of a value give one `Error:` line with a hint.

    Click would print its usage text and exit 2, as for a mistyped option; but a file that does
    not exist is not a misuse of the command, and the library reports its own bad values as one
    line and exit 1. Other usage errors keep click's text, with their message escaped.
    """

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: object) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.MissingParameter as exc:  # a BadParameter, but a missing ISSUE is usage
            exc.message = escape(exc.message)
            raise
        except click.BadParameter as exc:
            raise BadValue(_value_message(exc)) from None
        except click.UsageError as exc:
            exc.message = escape(exc.message)
            raise


def _value_message(exc: click.BadParameter) -> str:
    """`--out: directory 'x' is a file (hint: ...)` from click's 'Invalid value for ...'."""
    param = exc.param
    if isinstance(param, click.Option):
        name = "/".join(param.opts)
    elif param is not None:
        name = param.human_readable_name
    else:
        name = exc.param_hint if isinstance(exc.param_hint, str) else "a value"
    message = exc.message.rstrip(".")
    if message[:1].isupper() and message[1:2].islower():  # "Directory 'x' is a file."
        message = message[0].lower() + message[1:]
    return f"{name}: {message} (hint: {_value_hint(param, exc.ctx)})"


def _value_hint(param: click.Parameter | None, ctx: click.Context | None) -> str:
    kind = param.type if param is not None else None
    if isinstance(kind, click.Path):
        if not kind.file_okay:
            return "give an existing folder" if kind.exists else \
                "give a folder, not a file; a missing folder is created"
        if not kind.dir_okay:
            return "give the path of an existing file, not a folder" if kind.exists else \
                "give a file's path, not a folder's"
        return "give an existing file or folder"
    if isinstance(kind, click.IntRange):
        if kind.min is not None and kind.max is not None:
            return f"give a whole number from {kind.min} to {kind.max}"
        if kind.min is not None:
            return f"give a whole number of at least {kind.min}"
        return f"give a whole number of at most {kind.max}"
    if isinstance(kind, click.Choice):
        return "choose one of " + ", ".join(map(str, kind.choices))
    if isinstance(kind, click.DateTime):
        return "write the date as " + " or ".join(
            f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for f in kind.formats)
    if kind is click.INT:
        return "give a whole number"
    return f"see `{ctx.command_path} --help`" if ctx is not None else "see --help"


class NewsletterGroup(ValueErrors, click.Group):
    """A group of commands whose own options follow the same rules as a command's."""


class NewsletterCommand(ValueErrors, click.Command):
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
    """A progress bar on a terminal, with the rate and the time left; silent when output
    goes to a file or a pipe. `step` may be called from several threads. It is drawn at
    most every REDRAW seconds: drawing it for each of 10,000 messages wrote 10,000 lines
    of escape codes to the terminal."""

    REDRAW = 0.1

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None
        self.done = 0
        self.length = 0
        self.started = self.drawn = 0.0
        self.undrawn = 0  # steps since the last drawing
        self.lock = threading.Lock()

    def __enter__(self) -> ProgressBar:
        return self

    def start(self, length: int) -> None:
        if sys.stderr.isatty() and length:
            self.started = time.monotonic()
            self.length = length
            self.bar = click.progressbar(length=length, label=self.label, file=sys.stderr,
                                         show_eta=True, show_pos=True,
                                         item_show_func=lambda rate: rate)
            self.bar.__enter__()

    def step(self, count: int) -> None:
        if self.bar is not None:
            with self.lock:
                self.done += count
                self.undrawn += count
                now = time.monotonic()
                if now - self.drawn >= self.REDRAW or self.done >= self.length:
                    self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.started
        rate = f"{self.done / elapsed:.1f}/s" if elapsed > 0 else None
        assert self.bar is not None
        self.bar.update(self.undrawn, rate)
        self.undrawn, self.drawn = 0, now

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            if self.undrawn:
                self._draw(time.monotonic())
            self.bar.__exit__(*exc_info)
