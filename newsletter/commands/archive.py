"""`archive`: the web archive of the issues sent so far: a page each, an index, an Atom feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .. import clock
from ..errors import display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..source.config import SITE_DIR
from ..source.project import load_project
from ..web.archive import build_archive
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the site; what an earlier run wrote there is replaced.  "
                   "[default: site/ in the project]")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Publish the issues dated this day or earlier.  [default: today]")
@click.pass_obj
def archive(project_dir: Path, out_dir: Path | None, today: dt.datetime | None) -> None:
    """Write the web archive: a page per issue sent (dated today or earlier), newest first on
    the index, and an Atom feed. Upload the folder to the site's archive_url."""
    project = load_project(project_dir)
    result = build_archive(project, out_dir or project_dir / SITE_DIR,
                           today.date() if today else clock.today())
    where = display_path(result.folder)
    echo(f"Wrote {where}/ with {len(result.published)} issue(s), newest first:")
    for issue in result.published:
        echo(f"  {issue.date}  {issue.id + '/':<32} {issue.subject}")
    echo("  index.html, feed.xml (Atom)")
    for path in result.removed:
        echo(f"Removed {display_path(path)} (no longer in digests/)")
    for issue in result.held_back:
        echo(f"Not yet published: {issue.id} is dated {issue.date} (after today)")

