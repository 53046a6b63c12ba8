"""What was emitted for whom, per issue: SQLite, so a kill at any moment leaves it consistent.

Two steps per batch make every run resumable without duplicates: recipients are
recorded as 'pending' with the file they go in, the file is written (atomically),
then they are marked 'done'. A run that finds pending rows (it was interrupted)
deletes their files first and forgets the rows after: those recipients are emitted again.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import clock
from ..errors import OutputError, display_path
from ..output import no_room, output_error, private_folder
from ..sqlite_tx import immediate, use_wal

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
    run         TEXT NOT NULL,      -- which run wrote it (a --force run redoes the others)
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS emitted_state ON emitted (state);
CREATE INDEX IF NOT EXISTS emitted_file ON emitted (file);
"""


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def ledger_files(folder: Path) -> list[Path]:
    """The ledger and the files SQLite keeps beside it."""
    path = folder / LEDGER_FILE
    return [path, *_companions(path)]


def _open_failed(path: Path, exc: sqlite3.Error) -> OutputError:
    code = getattr(exc, "sqlite_errorcode", None) or 0
    # A full disk is SQLITE_FULL when a page cannot be written, but SQLITE_IOERR_SHMSIZE
    # ("disk I/O error") when the -shm file cannot grow: then the free space tells.
    if code == sqlite3.SQLITE_FULL or (code & 0xFF == sqlite3.SQLITE_IOERR
                                       and no_room(path.parent)):
        return OutputError(f"cannot open the ledger {display_path(path)}: the disk is full "
                           f"({exc})", "free some disk space, then run the same command again")
    return OutputError(f"cannot open the ledger {display_path(path)}: {exc}",
                       "check the output folder is writable")


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
        self.recorded = False  # begin() was called: this run's files may be on disk
        try:
            private_folder(folder)
            # 0600 before SQLite writes a byte: it gives -wal and -shm the file's mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            for path in (self.path, *_companions(self.path)):
                with contextlib.suppress(FileNotFoundError):
                    if stat.S_IMODE(path.stat().st_mode) != 0o600:
                        os.chmod(path, 0o600)  # written by an older version, 0644
        except OSError as exc:
            raise output_error(exc, self.path) from None
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            use_wal(self.db, 30)
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self.db.close()
            raise _open_failed(self.path, exc) from None
        version = self.meta("schema")
        if version is None:
            self.set_meta("schema", str(SCHEMA_VERSION))
        elif int(version) > SCHEMA_VERSION:
            raise OutputError(f"{display_path(self.path)} was written by a newer version",
                              "update this checkout before emitting this issue")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.db.close()

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._transaction():
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def done_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` already have this issue."""
        # "+state": look keys up by the primary key; the planner would otherwise pick the
        # state index and read every done row for each chunk (quadratic over a long list).
        return {row[0] for row in self._in("SELECT address_key FROM emitted WHERE +state='done' "
                                           "AND address_key IN ({marks})", list(keys))}

    def done_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM emitted WHERE state='done'").fetchone()[0]

    def files_done(self, mode: str) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT file FROM emitted WHERE state='done' AND mode=?",
                               (mode,))
        return [row[0] for row in rows]

    def pending_files(self) -> list[str]:
        """Files of the batch an interrupted run left pending (delete them, then drop_pending)."""
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT file FROM emitted WHERE state='pending'")]

    def drop_pending(self) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM emitted WHERE state='pending'")

    def files_of(self, keys: list[str], except_run: str) -> list[str]:
        """Files holding any of `keys`, written by a run other than `except_run` (for --force)."""
        return [row[0] for row in self._in(
            "SELECT DISTINCT file FROM emitted WHERE run != ? AND address_key IN ({marks})",
            keys, first=(except_run,))]

    def forget_files(self, files: list[str]) -> None:
        """Everyone in these files no longer has the issue (their drafts were moved aside)."""
        with self._transaction():
            self.db.executemany("DELETE FROM emitted WHERE file = ?", [(f,) for f in files])

    def rename_file(self, old: str, new: str) -> None:
        with self._transaction():
            self.db.execute("UPDATE emitted SET file = ? WHERE file = ? AND state = 'done'",
                            (new, old))

    def begin(self, entries: list[Entry], run: str) -> None:
        """Record a batch as pending before its files are written."""
        at = clock.now().isoformat(timespec="seconds")
        self.recorded = True
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO emitted VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                [(e.address_key, e.address, e.mode, e.file, e.message_id, run, at)
                 for e in entries])

    def finish(self, entries: list[Entry]) -> None:
        """Mark a batch done once its files are on disk."""
        with self._transaction():
            self.db.executemany("UPDATE emitted SET state='done' WHERE address_key=?",
                                [(e.address_key,) for e in entries])

    def _in(self, query: str, keys: list[str], first: tuple = ()) -> Iterator[tuple]:
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            yield from self.db.execute(query.format(marks=",".join("?" * len(part))),
                                       (*first, *part))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with immediate(self.db):
                yield
        except sqlite3.Error as error:
            raise OutputError(f"cannot update the ledger {display_path(self.path)}: {error}",
                              "free some disk space, then run the same command again") from None
