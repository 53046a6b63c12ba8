"""The `send.py` command group; each command lives in its own module under commands/."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .commands.archive import archive
from .commands.build import build
from .commands.check import check
from .commands.emit import emit
from .commands.new import new
from .commands.preview import preview
from .commands.screenshot import screenshot
from .commands.signup import signup
from .commands.status import status
from .commands.subscribers import subscribers


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


for command in (new, status, check, build, preview, screenshot, emit, archive, signup,
                subscribers):
    cli.add_command(command)

def main() -> None:
    cli(prog_name="send.py")


if __name__ == "__main__":
    sys.exit(main())
