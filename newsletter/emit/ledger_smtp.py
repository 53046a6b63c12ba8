"""The SMTP half of the ledger (ledger.py): one row per subscriber, pending -> sending ->
sent | failed, and what smtp.per_day and `status` read of them.

'sending' is committed before the message's content goes out (group_commit.py joins the
connections' marks that arrive together); 'sent' is held and written by the next commit
(mark_sent_later), so a message costs one commit, and a kill leaves at most one known-sent row
per connection looking uncertain.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock
from ..errors import OutputError
from ..sqlite_tx import immediate
from .group_commit import GroupCommit

# This message's 'sending' (key ?1, at ?2) and the previous one's 'sent' (a held mark: its
# reply ?3 and key ?4), in one statement.
_SENT_AND_SENDING = """
UPDATE emitted SET
    state = CASE WHEN address_key = ?1 THEN 'sending' ELSE 'sent' END,
    at = ?2,
    sent_at = CASE WHEN address_key = ?1 THEN ?2 ELSE sent_at END,
    reply = CASE WHEN address_key = ?1 THEN reply ELSE ?3 END
WHERE address_key IN (?1, ?4)
"""
_SENDING = "UPDATE emitted SET state='sending', at=?, sent_at=? WHERE address_key=?"
_SENT = "UPDATE emitted SET state='sent', at=?, reply=? WHERE address_key=?"


@dataclass(frozen=True)
class Entry:
    """A row to write: a draft's recipient, or an SMTP subscriber queued."""

    address_key: str
    address: str
    mode: str
    file: str | None
    message_id: str | None


@dataclass(frozen=True)
class Row:
    """A subscriber's row as an SMTP run reads it."""

    address_key: str
    address: str
    mode: str
    state: str
    message_id: str | None
    sent_at: str | None
    reply: str | None


class SmtpRows:
    """Ledger's SMTP methods; Ledger gives them its connection, lock and transactions."""

    db: sqlite3.Connection
    lock: threading.RLock
    folder: Path
    path: Path
    writers: AbstractContextManager[Any]  # a ProcessLock once processes share it
    _held: list[tuple[str, str]]  # (reply, key): 'sent' marks the next commit writes
    _held_lock: threading.Lock
    _sending: GroupCommit[tuple[str, str]]

    if TYPE_CHECKING:
        def begin(self, entries: list[Entry], run: str) -> None: ...
        def _in(self, query: str, keys: list[str], first: tuple = ()) -> Iterator[tuple]: ...
        def _transaction(self) -> AbstractContextManager[None]: ...
        def _write_failed(self, error: sqlite3.Error) -> OutputError: ...

    # --- SMTP: one row per subscriber, pending -> sending -> sent | failed ------------------

    def rows_of(self, keys: list[str]) -> dict[str, Row]:
        """The rows of these keys that exist, by key."""
        with self.lock:
            return {row[0]: Row(*row) for row in self._in(
                "SELECT address_key, address, mode, state, message_id, sent_at, reply "
                "FROM emitted WHERE address_key IN ({marks})", keys)}

    def queue(self, entries: list[Entry], run: str) -> None:
        """Record subscribers as pending with their Message-ID (kept for every attempt)."""
        self.begin(entries, run)

    def mark_sending(self, key: str) -> str:
        """Committed before the message's content is sent: from here a kill leaves it
        uncertain. The connections' marks that arrive together share one commit (see
        group_commit.py). Returns the time recorded."""
        at = clock.now().isoformat(timespec="seconds")
        self._sending.submit((key, at))
        return at

    def _commit_sending(self, marks: list[tuple[str, str]]) -> None:
        """These 'sending' marks and the held 'sent' ones, in one transaction: most often one
        of each, in one statement, which is a transaction of its own (autocommit)."""
        with self.lock, self.writers:
            held = self._take_held()
            try:
                if len(marks) == 1 and len(held) <= 1:
                    key, at = marks[0]
                    if held:
                        self.db.execute(_SENT_AND_SENDING, (key, at, *held[0]))
                    else:
                        self.db.execute(_SENDING, (at, at, key))
                else:
                    with immediate(self.db):
                        self._write_held(held, marks[0][1])
                        self.db.executemany(_SENDING, [(at, at, key) for key, at in marks])
            except BaseException as error:
                self._give_back_held(held)
                if isinstance(error, sqlite3.Error):
                    raise self._write_failed(error) from None
                raise

    def mark(self, key: str, state: str, reply: str) -> None:
        """The server's answer: 'sent' (its queue id), 'failed' (its refusal), or 'pending'
        again (a 4xx, or a message that never got past the final dot)."""
        assert state in ("sent", "failed", "pending"), state
        at = clock.now().isoformat(timespec="seconds")
        with self._transaction():
            if state == "pending":  # never sent: it does not count towards smtp.per_day
                self.db.execute("UPDATE emitted SET state=?, at=?, reply=?, sent_at=NULL "
                                "WHERE address_key=?", (state, at, reply, key))
            else:
                self.db.execute("UPDATE emitted SET state=?, at=?, reply=? WHERE address_key=?",
                                (state, at, reply, key))

    def mark_sent_later(self, key: str, reply: str) -> None:
        """'sent' with the server's reply, written by the next commit, whichever it is (most
        often the next message's 'sending'): an fsynced commit costs as much as sending a
        message. Until then the row reads 'sending', so a kill leaves it uncertain (never
        resent by itself), at most one per connection; `flush` writes what is held. Its
        time is the commit's, when the row changes."""
        with self._held_lock:
            self._held.append((reply, key))

    def flush(self) -> None:
        """Commit the held 'sent' marks (at the end of a run, or of a batch)."""
        with self._held_lock:
            if not self._held:
                return
        with self._transaction():
            pass

    def _write_held(self, held: list[tuple[str, str]], at: str | None = None) -> None:
        """Inside a transaction: the held 'sent' marks `_take_held` gave."""
        if held:
            at = at or clock.now().isoformat(timespec="seconds")
            self.db.executemany(_SENT, [(at, reply, key) for reply, key in held])

    def _take_held(self) -> list[tuple[str, str]]:
        with self._held_lock:
            held, self._held = self._held, []
            return held

    def _give_back_held(self, held: list[tuple[str, str]]) -> None:
        """A commit that failed wrote none of them: the next one tries again."""
        with self._held_lock:
            self._held[:0] = held

    def sent_since(self, moment: str) -> tuple[int, str | None]:
        """(messages whose DATA began at or after `moment`, an ISO time, and the oldest of
        those times): what smtp.per_day counts, sent or uncertain or refused after DATA.
        smtp.per_day is the account's, so the ledgers beside this one (the other issues,
        the welcome) count too."""
        with self.lock:
            count, oldest = self.db.execute(
                "SELECT count(*), min(sent_at) FROM emitted WHERE sent_at >= ?",
                (moment,)).fetchone()
        for path in sorted(self.folder.parent.glob(f"*/{self.path.name}")):
            if path.parent != self.folder:
                more, first = _sent_since_in(path, moment)
                count += more
                oldest = min((t for t in (oldest, first) if t), default=None)
        return count, oldest

    def counts(self) -> dict[tuple[str, str], int]:
        """What went out, for `status`: (mode, state) -> subscribers."""
        with self.lock:
            return {(mode, state): n for mode, state, n in self.db.execute(
                "SELECT mode, state, count(*) FROM emitted GROUP BY mode, state ORDER BY 1, 2")}

    def in_state(self, state: str, mode: str = "smtp") -> list[Row]:
        """Rows in `state` ('sending': the uncertain ones; 'failed', with their reply)."""
        with self.lock:
            return [Row(*row) for row in self.db.execute(
                "SELECT address_key, address, mode, state, message_id, sent_at, reply "
                "FROM emitted WHERE state=? AND mode=? ORDER BY address_key", (state, mode))]


def _sent_since_in(path: Path, moment: str) -> tuple[int, str | None]:
    """Another folder's ledger, read only; one without smtp rows (version 1) counts none."""
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            return tuple(db.execute("SELECT count(*), min(sent_at) FROM emitted "
                                    "WHERE sent_at >= ?", (moment,)).fetchone())
        finally:
            db.close()
    except sqlite3.Error:
        return 0, None
