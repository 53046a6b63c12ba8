"""The site's signup box, from newsletter.yaml: the site and the pipeline cannot disagree."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from ..mail.discreet import discreet_settings
from ..mail.mailto import mailto_link, unsubscribe_link
from ..source.config import Config


def subscribe_link(config: Config) -> str:
    """The mailto: the signup box opens: to the sender, with the subscribe subject and body."""
    return mailto_link(config.sender.email, config.signup.subscribe_subject,
                       config.signup.subscribe_body)


def discreet_links(config: Config) -> tuple[str, str] | None:
    """(subscribe discreetly, switch between the versions): the mailto: links of discreet
    mode, to the same sender address; None without newsletter.yaml's discreet: section."""
    settings = discreet_settings(config)
    if settings is None:
        return None
    return (mailto_link(config.sender.email, settings.subscribe_subject, settings.subscribe_body),
            mailto_link(config.sender.email, settings.switch_subject, settings.switch_body))


def signup_html(config: Config) -> str:
    """The HTML snippet to paste into the site: the subscribe link and the unsubscribe link,
    and with discreet mode the subscribe-discreetly and switch links, with what they do."""
    links = discreet_links(config)
    settings = discreet_settings(config)
    return _environment().get_template("signup.html.j2").render(
        config=config, subscribe_url=subscribe_link(config),
        unsubscribe_url=unsubscribe_link(config),
        discreet_url=links[0] if links else None, switch_url=links[1] if links else None,
        discreet_name=settings.sender_name if settings else None)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)
