"""`new`: propose the next issue in digests/, within the cadence the site promises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .. import clock
from ..emit.history import default_out, went_out_of
from ..errors import display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..source.project import load_project
from ..source.schedule import write_next_issue
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The issue's date.  [default: today]")
@click.option("--force", is_flag=True, help="Allow a date sooner than the cadence allows.")
@click.pass_obj
def new(project_dir: Path, date: dt.datetime | None, force: bool) -> None:
    """Write digests/<id>.yaml for the next issue: unsent chunks, a proposed subject."""
    project = load_project(project_dir)
    proposal = write_next_issue(project, date.date() if date else clock.today(), force,
                                went_out_of(default_out(project_dir)))
    lead = (f"lead {proposal.lead.id!r}" if proposal.lead else
            "no lead: every chunk has a content warning, so the subject is a neutral one")
    echo(f"wrote {display_path(proposal.path)}: issue {proposal.number} of "
         f"{proposal.date}, {len(proposal.chunks)} chunk(s), {lead}")
    if proposal.window.last is not None:
        echo(f"The cadence window after issue {proposal.window.last.number} "
             f"({proposal.window.last.date}): {proposal.window.earliest} to "
             f"{proposal.window.latest}.")
    echo("Next: write the intro, check the subject and preheader, then `send.py check`.")
