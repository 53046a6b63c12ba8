"""What went out, read back from the issues' ledgers: for `status`, `new` and `subscribers show`.

Reading only: a folder without a ledger is an issue nothing was emitted for, and no ledger is
created to find that out. The cadence (source/schedule.py) is given `went_out` from here, as a
later stage is passed in: source/ never imports emit/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..source.models import Issue
from ..source.schedule import WentOut
from ..subscribers.addresses import address_key
from .ledger import LEDGER_FILE, Ledger
from .ledger_smtp import Row

SMTP = "smtp"  # the smtp mode's ledger rows; every other mode writes files (drafts, links)
OUT_DIR = "out"  # emit's default --out, in the project


@dataclass(frozen=True)
class IssueHistory:
    """One issue's ledger, summed up."""

    issue_id: str
    path: Path
    by_mode: dict[str, dict[str, int]]  # mode -> state -> subscribers
    failed: list[Row]     # smtp rows refused by the server, with its reply
    uncertain: list[Row]  # smtp rows left 'sending': the reply to the final dot was lost
    went_out: WentOut | None


def default_out(project_root: Path) -> Path:
    return project_root / OUT_DIR


def read_issue(out_dir: Path, issue_id: str) -> IssueHistory | None:
    """What the issue's ledger says, or None when it has none (nothing emitted)."""
    folder = out_dir / issue_id
    if not (folder / LEDGER_FILE).is_file():
        return None
    with Ledger(folder) as ledger:
        by_mode: dict[str, dict[str, int]] = {}
        for (mode, state), count in ledger.counts().items():
            by_mode.setdefault(mode, {})[state] = count
        return IssueHistory(issue_id, folder / LEDGER_FILE, by_mode,
                            ledger.in_state("failed", SMTP), ledger.in_state("sending", SMTP),
                            _went_out(ledger, by_mode))


def went_out_of(out_dir: Path) -> Callable[[Issue], WentOut | None]:
    """For schedule.window: when each issue went out, from its ledger in `out_dir`."""

    def went_out(issue: Issue) -> WentOut | None:
        history = read_issue(out_dir, issue.id)
        return history.went_out if history else None

    return went_out


def _went_out(ledger: Ledger, by_mode: dict[str, dict[str, int]]) -> WentOut | None:
    """Sent: any SMTP row sent, on the day of the latest. Emitted in full: every row of the
    drafts' and links' modes done, on the day the last batch was recorded. The later wins:
    the cadence promises each reader a gap, so it counts from the last to get the issue."""
    found: list[WentOut] = []
    if by_mode.get(SMTP, {}).get("sent"):
        found.append(WentOut(_day(_latest(ledger, "sent_at", SMTP, "sent")), "sent"))
    files = {mode: states for mode, states in by_mode.items() if mode != SMTP}
    if files and all(set(states) == {"done"} for states in files.values()):
        days = [_day(_latest(ledger, "at", mode, "done")) for mode in files]
        found.append(WentOut(max(days), "emitted in full"))
    return max(found, key=lambda out: out.on, default=None)


def _latest(ledger: Ledger, column: str, mode: str, state: str) -> str:
    # The ledger's seams count rows but give no times of drafts' rows: read the one column.
    assert column in ("at", "sent_at")
    with ledger.lock:
        return ledger.db.execute(f"SELECT max({column}) FROM emitted WHERE mode=? AND state=?",
                                 (mode, state)).fetchone()[0]


def _day(moment: str) -> dt.date:
    """The editor's day (local time zone) of a ledger time (ISO 8601, UTC)."""
    return dt.datetime.fromisoformat(moment).astimezone().date()


def failed_deliveries(out_dir: Path, address: str) -> list[tuple[str, Row]]:
    """(issue id, row) of every issue in `out_dir` the server refused for `address`."""
    key = address_key(address)
    found = []
    for path in sorted(out_dir.glob(f"*/{LEDGER_FILE}")):
        with Ledger(path.parent) as ledger:
            row = ledger.rows_of([key]).get(key)
        if row is not None and row.mode == SMTP and row.state == "failed":
            found.append((path.parent.name, row))
    return found
