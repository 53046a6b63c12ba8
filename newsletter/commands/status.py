"""`status`: the last issue and what went out of it, the window for the next, unsent chunks,
the list's size and queue."""

from __future__ import annotations

from pathlib import Path

import click

from .. import clock
from ..emit.history import IssueHistory, default_out, read_issue, went_out_of
from ..emit.welcome import awaiting
from ..errors import display_path
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
    out_dir = default_out(project_dir)
    plan = window(project, went_out_of(out_dir))
    history = read_issue(out_dir, plan.last.id) if plan.last is not None else None
    if plan.last is not None:
        days = (today - plan.last.date).days
        out = history is not None and history.went_out is not None
        when = (f"{days} day(s) ago" if days >= 0 else
                f"in {-days} day(s)" + ("" if out else ": not sent yet"))
        echo(f"Last issue: {plan.last.number} ({plan.last.id}), dated {plan.last.date}, "
             f"{when}.")
    echo(f"Next issue: {plan.state(today)}.")
    if plan.last is not None:
        echo(f"The cadence is {plan.counted_from()}.")
        for line in _went_out_lines(plan.last.number, history, out_dir / plan.last.id):
            echo(line)
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
            unwelcomed = awaiting(store, out_dir)
        if unwelcomed:
            echo(f"Awaiting their welcome: {unwelcomed} subscriber(s) (send.py welcome).")
        if waiting:
            echo(f"Held for review: {waiting} message(s) (send.py subscribers pending).")
    else:
        echo("Subscribers: no store yet (send.py subscribers import SOURCE).")


def _went_out_lines(number: int, history: IssueHistory | None, folder: Path) -> list[str]:
    """What the last issue's ledger says, by mode: sent, failed, uncertain, still pending
    (SMTP); emitted, still pending (drafts, links); then the addresses to look at."""
    if history is None:
        return [f"Issue {number}: nothing emitted yet (no ledger in {display_path(folder)}/)."]
    lines = [f"Issue {number}, from its ledger ({display_path(history.path)}):"]
    for mode, states in sorted(history.by_mode.items()):
        if mode == "smtp":
            said = [f"{states.get('sent', 0)} sent", f"{states.get('failed', 0)} failed",
                    f"{states.get('sending', 0)} uncertain",
                    f"{states.get('pending', 0)} still pending"]
        else:
            said = [f"{states.get('done', 0)} emitted",
                    f"{states.get('pending', 0)} still pending"]
        lines.append(f"  {mode}: {', '.join(said)}")
    for row in history.failed:
        lines.append(f"  failed: {row.address}: {row.reply or 'no reply recorded'}")
    for row in history.uncertain:
        lines.append(f"  uncertain: {row.address}, sent at {row.sent_at or '?'} (emit --mode "
                     "smtp --resend-uncertain sends it again)")
    if any(states.get("pending") for states in history.by_mode.values()):
        lines.append("  Pending ones go out when the same emit command is run again.")
    return lines
