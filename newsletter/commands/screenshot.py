"""`screenshot`: PNGs of an issue at 600 px, 375 px, in dark mode and as text, for a review."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import display_path
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.argument("issue")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the PNGs.  [default: out/<issue-id>/screenshots/ in the project]")
@click.pass_obj
def screenshot(project_dir: Path, issue: str, out_dir: Path | None) -> None:
    """Take full-page PNGs of ISSUE with the system Chromium: desktop, phone, dark, text."""
    from ..web.screenshot import take_screenshots  # here: it loads the preview's server too

    shots = take_screenshots(project_dir, issue, out_dir)
    width = max(len(display_path(shot.path)) for shot in shots)
    for shot in shots:
        echo(f"wrote {display_path(shot.path):<{width}}  {shot.width:>3} x {shot.height} px")
