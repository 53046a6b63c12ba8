"""The store shown to the editor: a table, CSV or JSON; one subscriber in full; an export file."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import NewsletterError
from ..output import write_all_atomic
from .preference import Change
from .store import SUBSCRIBED, Record, SubscriberStore

# `discreet` is yes or no, as the subscriber CSV reads it: an export can be given to
# `emit --subscribers`.
COLUMNS = ("email", "name", "status", "discreet", "since", "consent_message_id", "consent_date",
           "consent_subject", "flags")


def _row(record: Record) -> dict[str, str]:
    return {"email": record.address, "name": record.name, "status": record.status,
            "discreet": "yes" if record.discreet else "no", "since": record.decided_at or "",
            "consent_message_id": record.consent_message_id or "",
            "consent_date": record.consent_date or "",
            "consent_subject": record.consent_subject or "", "flags": record.flags}


def format_records(records: list[Record], output_format: str,
                   shown: Callable[[str], str] = str) -> str:
    """The records as a table, CSV or JSON; SHOWN turns each table cell into what the terminal
    will show (the CLI's escaping), so the columns line up with what is seen."""
    rows = [_row(r) for r in records]
    if output_format == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if not rows:
        return "The store is empty.\n"
    cells = [tuple(map(shown, (r["email"], r["name"], r["status"], r["discreet"],
                               r["since"][:10]))) for r in rows]
    headers = ("email", "name", "status", "discreet", "since")
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    discreet = sum(1 for r in records if r.discreet and r.status == SUBSCRIBED)
    lines.append(", ".join(f"{n} {status}" + (f" ({discreet} discreet)" if discreet and
                                              status == SUBSCRIBED else "")
                           for status, n in sorted(counts.items())))
    return "\n".join(lines) + "\n"


def describe(store: SubscriberStore, email: str) -> str:
    record = store.record(email)
    if record is None:
        raise NewsletterError(f"{email} is not in the store",
                              "check the spelling; `send.py subscribers list` shows everyone")
    lines = [f"{record.address}" + (f" ({record.name})" if record.name else ""),
             f"status: {record.status} since {record.decided_at or 'an undated request'}"]
    if record.consent_message_id or record.consent_date:
        lines.append(f"consent: {record.consent_subject!r}, {record.consent_date or 'no date'}, "
                     f"Message-ID {record.consent_message_id or '(none)'}")
    else:
        lines.append("consent: no subscribe request on record")
    changes = store.preference_changes(email)
    lines.append(_preference(record.discreet, changes[-1] if changes else None))
    if record.flags:
        lines.append(f"flags: {record.flags}")
    lines.append("requests read:")
    # By Date, ties by arrival, as the status and the preference are worked out
    # (preference.ORDER): the "-> discreet" and "-> usual version" markers then read in order.
    history = sorted(store.history(email), key=lambda request: (request[1] or "", request[4]))
    width = max([11, *(len(kind) for kind, *_ in history)])
    changed = {c.arrival: c.discreet for c in changes}
    for kind, date, message_id, subject, arrival in history:
        line = f"  {date or 'no date':25}  {kind:{width}}  {subject!r}  {message_id or ''}"
        if arrival in changed:
            line = f"{line.rstrip()}  -> {'discreet' if changed[arrival] else 'usual version'}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _preference(discreet: bool, last: Change | None) -> str:
    """The discreet line of `show`: yes or no, and since which request, if one changed it."""
    said = ("discreet: yes (a neutral sender name and subject)" if discreet
            else "discreet: no (the usual sender name and subject)")
    if last is None:
        return said
    return (f"{said} since {last.date or 'an undated request'} ({last.kind}, "
            f"Message-ID {last.message_id or '(none)'})")


def export_records(store: SubscriberStore, path: Path) -> int:
    """Every record with its consent proof, as CSV, written atomically and readable only by you."""
    records = store.records()
    data = format_records(records, "csv").encode("utf-8")
    previous = os.umask(0o077)  # the temporary file, and so the renamed one, is 0600
    try:
        write_all_atomic({path: data})
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    return len(records)
