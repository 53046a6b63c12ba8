"""The `send.py` command group; each command lives in its own module under commands/.

Commands are imported only when run: `build` should not pay for the browser,
mailbox and archive libraries that other commands need (about 0.3 s at start-up).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from . import __version__
from .commands.base import NewsletterGroup

# name -> module under newsletter.commands, in the order `--help` lists them
COMMANDS = {name: name for name in ("new", "status", "check", "build", "preview", "screenshot",
                                    "emit", "welcome", "archive", "signup",
                                    "subscribers")}


class LazyGroup(NewsletterGroup):
    """A click group whose commands are imported when first used; `--project` naming no folder
    is one `Error:` line, as every bad value (commands/base.py)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"newsletter.commands.{COMMANDS[name]}")
        return getattr(module, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="send.py")
@click.option("--project", "project_dir",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=".", show_default=True,
              help="The project folder: newsletter.yaml, content/, digests/, templates/.")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path) -> None:
    """Make the Mindshape newsletter: content chunks -> issue -> email."""
    ctx.obj = project_dir


def main() -> None:
    cli(prog_name="send.py")


if __name__ == "__main__":
    sys.exit(main())
