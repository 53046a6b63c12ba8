"""`signup`: the site's signup box and the unsubscribe link, from newsletter.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..mail.mailto import unsubscribe_link
from ..source.config import load_config
from ..web.signup import discreet_links, signup_html
from .base import NewsletterCommand
from .terminal import echo, echo_lines


@click.command(cls=NewsletterCommand)
@click.pass_obj
def signup(project_dir: Path) -> None:
    """Print the site's signup box and the unsubscribe link, both from newsletter.yaml.

    With a discreet: section, also the subscribe-discreetly and the switch links."""
    config = load_config(project_dir)
    echo("Signup box for the site (HTML):")
    echo()
    echo_lines(signup_html(config))
    echo()
    echo("Unsubscribe link (also in every email and its List-Unsubscribe header):")
    echo(unsubscribe_link(config))
    links = discreet_links(config)
    if links:
        echo()
        echo("Subscribe discreetly link (a neutral sender name and subject, from the same "
             "address):")
        echo(links[0])
        echo("Switch link (between the discreet and the usual version; also in every discreet "
             "email):")
        echo(links[1])
