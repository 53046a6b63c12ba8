"""`subscribers`: import the signup mailbox, list, show, export, forget; the review queue."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..emit.history import default_out, failed_deliveries
from ..errors import NewsletterError, display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..source.config import load_config
from ..source.fields import Invalid
from ..subscribers import queue
from ..subscribers.addresses import normalise_address
from ..subscribers.gitguard import check_file_not_in_git
from ..subscribers.imap import PASSWORD_VARIABLE, redacted_url
from ..subscribers.importer import import_imap, import_local
from ..subscribers.report import describe, export_records, format_records
from ..subscribers.store import open_existing_store, open_store
from .base import NewsletterCommand, NewsletterGroup
from .terminal import echo, echo_csv, echo_json, echo_lines, escape


@click.group(cls=NewsletterGroup)
def subscribers() -> None:
    """The subscriber list: import the signup mailbox, look, export, forget.

    The store lives in .subscribers/ in the project (git-ignored), or in $NEWSLETTER_STORE.
    Nothing is ever sent anywhere.
    """


@subscribers.command("import", cls=NewsletterCommand)
@click.argument("source")
@click.pass_obj
def subscribers_import(project_dir: Path, source: str) -> None:
    """Read SOURCE (an mbox file, a Maildir, a folder of .eml, or imaps://user@host/FOLDER).

    The IMAP password comes from $NEWSLETTER_IMAP_PASSWORD, never from a file or the
    command line. Importing the same mail again changes nothing.
    """
    config = load_config(project_dir)
    with open_store(project_dir) as store:
        if source.startswith(("imaps://", "imap://")):
            # A password pasted into an env file often keeps its line break.
            password = os.environ.get(PASSWORD_VARIABLE, "").rstrip("\r\n")
            summary = import_imap(store, source, config, password=password)
        else:
            summary = import_local(store, Path(source), config)
    counts = summary.counts
    echo(f"Read {counts['read']} message(s) from {redacted_url(source)}"
         + (f" ({counts['already_read']} read before)" if counts["already_read"] else "") + ".")
    not_understood = counts["held_not_understood"] + len(summary.not_understood)
    echo(f"{counts['new']} new, {counts['unsubscribed']} unsubscribed, {counts['bouncing']} "
         f"bouncing, {not_understood} not understood.")
    extra = [(counts["resubscribed"], "subscribed again"),
             (counts["discreet"], "of the new or returning subscribers asked for the discreet "
              "version (a neutral sender name and subject)"),
             (counts["switched"], "switched between the discreet and the usual version"),
             (counts["auto_replies"], "auto-replies ignored"),
             (counts["unchanged"], "requests that changed nothing (older or repeated)"),
             (counts["suppressed"], "requests from forgotten addresses ignored"),
             (counts["held_requests"], "request(s) held for you to decide")]
    for count, what in extra:
        if count:
            echo(f"{count} {what}.")
    if summary.held:
        echo("Held for review (send.py subscribers pending):")
        for held_id, where, subject, date, why in summary.held:
            echo(f"  #{held_id}  {where}  {date}  {subject}" + (f"  ({why})" if why else ""))
    if summary.not_understood:
        echo("Not understood (look at these yourself):")
        for where, subject, date, why in summary.not_understood:
            echo(f"  {where}  {date}  {subject}" + (f"  ({why})" if why else ""))
    for address, flag in summary.flagged:
        echo(f"Flagged: {address}: {flag}")
    for where, reason in summary.malformed:
        echo(f"Skipped: {where}: {reason}", err=True)


@subscribers.command("list", cls=NewsletterCommand)
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]),
              default="table", show_default=True)
@click.pass_obj
def subscribers_list(project_dir: Path, output_format: str) -> None:
    """Everyone in the store, with their status and since when."""
    with open_existing_store(project_dir) as store:
        text = format_records(store.records(), output_format, shown=escape)
    {"json": echo_json, "csv": echo_csv}.get(output_format, echo_lines)(text)


@subscribers.command("show", cls=NewsletterCommand)
@click.argument("email")
@click.pass_obj
def subscribers_show(project_dir: Path, email: str) -> None:
    """One subscriber: status, the proof of consent, every request read (by Date)."""
    address = _address(email)
    with open_existing_store(project_dir) as store:
        text = describe(store, address)
    echo_lines(text)
    for issue_id, row in failed_deliveries(default_out(project_dir), address):
        echo(f"delivery failed: issue {issue_id}: the server answered "
             f"{row.reply or '(no reply recorded)'} (emit --mode smtp --force tries again)")


@subscribers.command("export", cls=NewsletterCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def subscribers_export(project_dir: Path, file: Path) -> None:
    """Write every record with its proof of consent to FILE (CSV, readable only by you)."""
    check_file_not_in_git(file, "export")
    with open_existing_store(project_dir) as store:
        count = export_records(store, file)
    echo(f"Wrote {count} record(s) to {display_path(file)} (mode 0600). It names "
         "subscribers: keep it on this machine.")


@subscribers.command("forget", cls=NewsletterCommand)
@click.argument("email")
@click.pass_obj
def subscribers_forget(project_dir: Path, email: str) -> None:
    """Erase every record of EMAIL; old mail read again will not bring it back.

    An address not in the store is an error (exit 1), but its salted hash is still kept:
    an erasure request can come before its subscribe mail has been imported.
    """
    address = _address(email)
    with open_existing_store(project_dir) as store:
        found = store.forget(address)
    if not found:
        raise NewsletterError(
            f"{address} is not in the store; nothing was erased, but a salted hash of it is "
            "kept so that mail not yet imported does not add it",
            "check the spelling; `send.py subscribers list` shows everyone")
    echo(f"Forgot {address}: every record erased; only a salted hash is kept so that "
         "re-importing old mail does not add it again.")


@subscribers.command("pending", cls=NewsletterCommand)
@click.pass_obj
def subscribers_pending(project_dir: Path) -> None:
    """Messages held for you: not understood, or held for their authentication, date or
    addresses. Each waits, across imports, until you accept or dismiss it."""
    with open_existing_store(project_dir) as store:
        held = queue.pending(store)
    if not held:
        echo("Nothing waits for review.")
        return
    kinds = "subscribe|unsubscribe"
    if any(item.wanted in ("switch", "subscribe-discreetly") for item in held):
        kinds = "subscribe|subscribe-discreetly|unsubscribe|switch"
    echo(f"{len(held)} message(s) wait for you: send.py subscribers accept ID --as "
         f"{kinds}, or dismiss ID.")
    for item in held:
        who = item.address or "(no usable From)"
        date = item.date[:16].replace("T", " ") if item.date else "no date"
        echo(f"#{item.id}  {who}  {date}  {item.subject or '(no subject)'}")
        echo(f"    why: {item.reason}" + (f" (it asks to {item.wanted})" if item.wanted else ""))
        for line in item.excerpt.splitlines():
            echo(f"    > {line}")
        if item.named:
            echo(f"    names: {', '.join(item.named.splitlines())} (accept ... --for EMAIL)")


@subscribers.command("accept", cls=NewsletterCommand)
@click.argument("held_id", metavar="ID", type=int)
@click.option("--as", "kind", required=True,
              type=click.Choice(["subscribe", "subscribe-discreetly", "unsubscribe", "switch"]),
              help="What the message asks, as you read it; its sender is the subscriber. A "
                   "subscribe keeps the discreet version the message asked for.")
@click.option("--for", "address", metavar="EMAIL",
              help="Apply it to this address the message names, not to its sender.")
@click.pass_obj
def subscribers_accept(project_dir: Path, held_id: int, kind: str, address: str | None) -> None:
    """Apply held message ID as a request of its sender (the message is the proof)."""
    with open_existing_store(project_dir) as store:
        _, outcome, target = queue.accept(store, held_id, kind,
                                          _address(address) if address else None)
        record = store.record(target)
    said = {"new": "subscribed", "resubscribed": "subscribed again",
            "unsubscribed": "unsubscribed", "bouncing": "bouncing",
            "suppressed": "not applied: the address was forgotten and this message is not "
                          "newer than that",
            "switched": "switched between the discreet and the usual version",
            "unchanged": "changed nothing (a newer request of theirs decides)"}[outcome]
    if record is not None and (outcome == "switched" or (record.discreet and outcome in (
            "new", "resubscribed"))):
        said += ": now the discreet version" if record.discreet else ": now the usual version"
    echo(f"Accepted #{held_id} as {kind} for {target}: {said}.")


@subscribers.command("dismiss", cls=NewsletterCommand)
@click.argument("held_id", metavar="ID", type=int)
@click.pass_obj
def subscribers_dismiss(project_dir: Path, held_id: int) -> None:
    """Drop held message ID; importing it again does not bring it back."""
    with open_existing_store(project_dir) as store:
        held = queue.dismiss(store, held_id)
    echo(f"Dismissed #{held_id} ({held.address or 'no usable From'}, "
         f"{held.subject or '(no subject)'}): nothing changed.")


def _address(email: str) -> str:
    """EMAIL as the store keeps it (trimmed, IDN domain as punycode, domain lower-cased)."""
    try:
        return normalise_address(email)
    except Invalid as exc:
        raise NewsletterError(exc.message, exc.hint) from None
