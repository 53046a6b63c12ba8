"""The site's signup box, from newsletter.yaml: the site and the pipeline cannot disagree."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from ..mail.mailto import mailto_link, unsubscribe_link
from ..source.config import Config


def subscribe_link(config: Config) -> str:
    """The mailto: the signup box opens: to the sender, with the subscribe subject and body."""
    return mailto_link(config.sender.email, config.signup.subscribe_subject,
                       config.signup.subscribe_body)


def signup_html(config: Config) -> str:
    """The HTML snippet to paste into the site: the subscribe link and the unsubscribe link."""
    return _environment().get_template("signup.html.j2").render(
        config=config, subscribe_url=subscribe_link(config),
        unsubscribe_url=unsubscribe_link(config))


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)
