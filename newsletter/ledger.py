"""What was emitted for whom, per issue: SQLite, so a kill at any moment leaves it consistent.

Two steps per batch make every run resumable without duplicates: recipients are
recorded as 'pending' with the file they go in, the file is written (atomically),
then they are marked 'done'. A run that finds pending rows (it was interrupted)
deletes their files and forgets them: those recipients are emitted again.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, display_path

LEDGER_FILE = "ledger.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emitted (
    address_key TEXT PRIMARY KEY,   -- the address, lower-cased
    address     TEXT NOT NULL,
    mode        TEXT NOT NULL,      -- eml | bcc | mailto
    file        TEXT NOT NULL,      -- where it went, relative to the issue's folder
    message_id  TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS emitted_state ON emitted (state);
"""


@dataclass(frozen=True)
class Entry:
    address_key: str
    address: str
    mode: str
    file: str
    message_id: str | None


class Ledger:
    """The ledger of one issue's folder. Use as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LEDGER_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            version = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(f"cannot open the ledger {display_path(self.path)}: {exc}",
                              "check the output folder is writable") from None
        if version is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(version[0]) > SCHEMA_VERSION:
            raise OutputError(f"{display_path(self.path)} was written by a newer version",
                              "update this checkout before emitting this issue")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.db.close()

    def done_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` already have this issue."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            marks = ",".join("?" * len(part))
            found.update(row[0] for row in self.db.execute(
                f"SELECT address_key FROM emitted WHERE state='done' AND address_key IN ({marks})",
                part))
        return found

    def done_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM emitted WHERE state='done'").fetchone()[0]

    def files_done(self, mode: str) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT file FROM emitted WHERE state='done' AND mode=?",
                               (mode,))
        return [row[0] for row in rows]

    def take_pending(self) -> list[str]:
        """Forget an interrupted batch: returns its files (to delete) and drops its rows."""
        with self._transaction():
            files = [row[0] for row in self.db.execute(
                "SELECT DISTINCT file FROM emitted WHERE state='pending'")]
            self.db.execute("DELETE FROM emitted WHERE state='pending'")
        return files

    def begin(self, entries: list[Entry]) -> None:
        """Record a batch as pending before its files are written."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO emitted VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(e.address_key, e.address, e.mode, e.file, e.message_id, at) for e in entries])

    def finish(self, entries: list[Entry]) -> None:
        """Mark a batch done once its files are on disk."""
        with self._transaction():
            self.db.executemany("UPDATE emitted SET state='done' WHERE address_key=?",
                                [(e.address_key,) for e in entries])

    def forget_all(self) -> None:
        """--force: this issue is to be emitted to everyone again."""
        with self._transaction():
            self.db.execute("DELETE FROM emitted")

    def _transaction(self):
        return _Transaction(self.db, self.path)


class _Transaction:
    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
            error = exc if isinstance(exc, sqlite3.Error) else None
        except sqlite3.Error as commit_error:
            self.db.execute("ROLLBACK")
            error = commit_error
        if error is not None:
            raise OutputError(f"cannot update the ledger {display_path(self.path)}: {error}",
                              "free some disk space, then run the same command again") from None
