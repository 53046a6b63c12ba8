"""`signup`: the site's signup box and the unsubscribe link, from newsletter.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_config
from ..mailto import unsubscribe_link
from ..signup import signup_html
from .base import NewsletterCommand


@click.command(cls=NewsletterCommand)
@click.pass_obj
def signup(project_dir: Path) -> None:
    """Print the site's signup box and the unsubscribe link, both from newsletter.yaml."""
    config = load_config(project_dir)
    click.echo("Signup box for the site (HTML):\n")
    click.echo(signup_html(config).rstrip("\n"))
    click.echo(f"\nUnsubscribe link (also in every email and its List-Unsubscribe header):\n"
               f"{unsubscribe_link(config)}")
