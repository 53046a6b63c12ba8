"""`status`: the last issue, the window for the next, unsent chunks, the list's size and queue."""

from __future__ import annotations

from pathlib import Path

import click

from .. import clock
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..source.models import KINDS
from ..source.project import load_project
from ..source.schedule import unsent_chunks, window
from ..subscribers import queue
from ..subscribers.store import DB_FILE, SUBSCRIBED, open_existing_store, store_folder
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.pass_obj
def status(project_dir: Path) -> None:
    """Where the newsletter stands: last issue, next window, what is ready to go."""
    project = load_project(project_dir)
    today = clock.today()
    plan = window(project)
    if plan.last is not None:
        days = (today - plan.last.date).days
        when = f"{days} day(s) ago" if days >= 0 else f"in {-days} day(s): not sent yet"
        echo(f"Last issue: {plan.last.number} ({plan.last.id}), dated {plan.last.date}, "
             f"{when}.")
    echo(f"Next issue: {plan.state(today)}.")
    unsent = unsent_chunks(project)
    echo(f"Unsent chunks: {len(unsent)}")
    for kind, label in KINDS.items():
        ids = [chunk.id for chunk in unsent if chunk.kind == kind]
        if ids:
            echo(f"  {label}: {', '.join(ids)}")
    if not project.config.signup.authserv_ids:
        echo("Signups are not authenticated: set signup.authserv_ids in newsletter.yaml to "
             "your mailbox provider's Authentication-Results ids.")
    if (store_folder(project_dir) / DB_FILE).exists():
        with open_existing_store(project_dir) as store:
            echo(f"Subscribers: {store.count(SUBSCRIBED)} subscribed "
                 f"({store.count()} in the store).")
            waiting = queue.count(store)
        if waiting:
            echo(f"Held for review: {waiting} message(s) (send.py subscribers pending).")
    else:
        echo("Subscribers: no store yet (send.py subscribers import SOURCE).")
