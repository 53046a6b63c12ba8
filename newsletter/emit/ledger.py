"""What was emitted for whom, per issue: SQLite, so a kill at any moment leaves it consistent.

Drafts (eml, bcc, mailto), two steps per batch: recipients are recorded as 'pending' with
the file they go in, the file is written (atomically), then they are marked 'done'. A run
that finds pending rows with a file (it was interrupted) deletes their files first and
forgets the rows after: those recipients are emitted again.

SMTP, one row per subscriber and no file: 'pending' (with the Message-ID every attempt
carries), 'sending' committed before the message's content goes out, then 'sent' with the
server's reply (its queue id) or 'failed' with it; a 4xx puts it back to 'pending'. A row
left 'sending' is uncertain: the server may hold the message (RFC 5321 4.5.3.2.6), so it is
never resent by itself. 'sent' is written with the next commit (mark_sent_later): one fsync
a message, and a kill leaves at most one known-sent row per connection looking uncertain.
Pending SMTP rows survive a resume: their Message-ID is kept.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import OutputError, display_path
from ..output import no_room, output_error, private_folder
from ..sqlite_tx import ProcessLock, immediate, use_wal
from .group_commit import GroupCommit
from .ledger_smtp import Entry, SmtpRows

LEDGER_FILE = "ledger.sqlite3"
SCHEMA_VERSION = 2
STATES = ("pending", "done", "sending", "sent", "failed")
HAVE_IT = ("done", "sent")  # states in which a subscriber has the issue

_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    address_key TEXT PRIMARY KEY,   -- the address, lower-cased
    address     TEXT NOT NULL,
    mode        TEXT NOT NULL,      -- eml | bcc | mailto | smtp
    file        TEXT,               -- where it went, relative to the issue's folder; NULL: smtp
    message_id  TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'sending', 'sent', 'failed')),
    run         TEXT NOT NULL,      -- which run wrote it (a --force run redoes the others)
    at          TEXT NOT NULL,      -- when the row last changed
    sent_at     TEXT,               -- smtp: when DATA began (smtp.per_day counts these)
    reply       TEXT                -- smtp: the server's last reply (queue id, or why not)
);
"""
# An SMTP run changes a row with every message, so the indexes are those its commits need
# not touch much. None on state: every query by state runs once a run (a scan of 100,000
# rows takes milliseconds), and it made each commit a third dearer. sent_at's (smtp.per_day)
# leaves out the rows without one, so a message's first sent_at adds an entry and removes
# none. Ledgers written with the old indexes get these.
_INDEXES = """
DROP INDEX IF EXISTS emitted_state;
DROP INDEX IF EXISTS emitted_sent_at;
CREATE INDEX IF NOT EXISTS emitted_file ON emitted (file);
CREATE INDEX IF NOT EXISTS emitted_sent ON emitted (sent_at) WHERE sent_at IS NOT NULL;
"""

_SCHEMA = ("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS discreet (address_key TEXT PRIMARY KEY);"
           + _TABLE.format(name="emitted"))
# Version 1 had no smtp states, a NOT NULL file and no sent_at/reply: SQLite cannot change a
# CHECK or a NOT NULL in place, so the table is copied into the new shape.
_MIGRATE_1_TO_2 = (
    _TABLE.format(name="emitted_v2"),
    "INSERT INTO emitted_v2 (address_key, address, mode, file, message_id, state, run, at) "
    "SELECT address_key, address, mode, file, message_id, state, run, at FROM emitted",
    "DROP TABLE emitted",
    "ALTER TABLE emitted_v2 RENAME TO emitted",
)


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


class Ledger(SmtpRows):
    """The ledger of one issue's folder. Use as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LEDGER_FILE
        self.recorded = False  # begin() was called: this run's files may be on disk
        self._held: list[tuple[str, str]] = []  # 'sent' marks for the next commit
        self._held_lock = threading.Lock()  # not self.lock: never waits for a commit
        self._sending = GroupCommit(self._commit_sending)
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
        # One writer at a time when the SMTP run's sending processes share the ledger: a
        # flock is woken the moment it is free, where SQLite's busy handler sleeps 1 ms+.
        self.writers: AbstractContextManager[Any] = contextlib.nullcontext()
        try:
            self.db = self._connect()
            use_wal(self.db, 30)
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
        elif int(version) < SCHEMA_VERSION:
            self._migrate(int(version))
        try:
            self.db.executescript(_INDEXES)
        except sqlite3.Error as exc:
            self.db.close()
            raise _open_failed(self.path, exc) from None

    def _connect(self) -> sqlite3.Connection:
        # Shared by an SMTP run's connection threads, one at a time (self.lock).
        self.lock = threading.RLock()
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30,
                             check_same_thread=False)
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextmanager
    def forking(self) -> Iterator[None]:
        """Around the fork of an SMTP run's sending processes. No SQLite connection may cross
        a fork (a process's connections share lock state that SQLite keeps in memory), so
        this one is closed before and opened again after, and each sending process opens its
        own (`in_forked_process`). From then on each write, in any of them, waits for the
        others' (a ProcessLock on the folder)."""
        self.flush()
        self.db.close()
        try:
            yield
        finally:
            self.writers = ProcessLock(self.folder)
            self.db = self._reconnect()

    def in_forked_process(self) -> None:
        """In a sending process, just forked (inside `forking`): a connection of its own."""
        self.writers = ProcessLock(self.folder)
        self.db = self._reconnect()

    def _reconnect(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise _open_failed(self.path, exc) from None

    def close_in_forked_process(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()

    def _migrate(self, version: int) -> None:
        """An older ledger, brought to this version in one transaction (all or nothing)."""
        with self._transaction():
            if version == 1:
                for statement in _MIGRATE_1_TO_2:
                    self.db.execute(statement)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)",
                            (str(SCHEMA_VERSION),))

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            # What the server accepted is known: written even when the run ends in an error.
            with contextlib.suppress(OutputError):
                self.flush()
        finally:
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
        return {row[0] for row in self._in("SELECT address_key FROM emitted WHERE state IN "
                                           "('done', 'sent') AND address_key IN ({marks})",
                                           list(keys))}

    def done_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM emitted WHERE state IN ('done', 'sent')"
                               ).fetchone()[0]

    def discreet_count(self) -> int:
        """Subscribers who have the discreet version (`note_discreet`, emit/versions.py)."""
        return self.db.execute("SELECT count(*) FROM discreet JOIN emitted USING (address_key) "
                               "WHERE state IN ('done', 'sent')").fetchone()[0]

    def note_discreet(self, keys: list[str], usual: list[str], meta: tuple[str, str]) -> None:
        """`keys` are given the discreet version, `usual` the usual one; `meta` set with it."""
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO discreet VALUES (?)", [(k,) for k in keys])
            list(self._in("DELETE FROM discreet WHERE address_key IN ({marks})", usual))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta)

    def files_done(self, mode: str) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT file FROM emitted WHERE state='done' AND mode=?",
                               (mode,))
        return [row[0] for row in rows]

    def pending_files(self) -> list[str]:
        """Files of the batch an interrupted run left pending (delete them, then drop_pending)."""
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT file FROM emitted WHERE state='pending' AND file IS NOT NULL")]

    def drop_pending(self) -> None:
        """Forget the drafts' pending rows (SMTP's have no file and keep their Message-ID)."""
        with self._transaction():
            self.db.execute("DELETE FROM emitted WHERE state='pending' AND file IS NOT NULL")

    def files_of(self, keys: list[str], except_run: str) -> list[str]:
        """Files holding any of `keys`, written by a run other than `except_run` (for --force)."""
        return [row[0] for row in self._in(
            "SELECT DISTINCT file FROM emitted WHERE run != ? AND file IS NOT NULL "
            "AND address_key IN ({marks})",
            keys, first=(except_run,))]

    def forget_files(self, keys: list[str], except_run: str) -> None:
        """These subscribers' drafts (the files `files_of` gave) were moved aside: they no
        longer have the issue. Others in the same files keep it: they had the draft too."""
        with self._transaction():
            list(self._in("DELETE FROM emitted WHERE run != ? AND file IS NOT NULL "
                          "AND address_key IN ({marks})", keys, first=(except_run,)))

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
                "INSERT OR REPLACE INTO emitted (address_key, address, mode, file, message_id, "
                "state, run, at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
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
        """One write transaction, which also writes the held 'sent' marks."""
        with self.lock, self.writers:
            held = self._take_held()
            try:
                with immediate(self.db):
                    self._write_held(held)
                    yield
            except BaseException as error:
                self._give_back_held(held)
                if isinstance(error, sqlite3.Error):
                    raise self._write_failed(error) from None
                raise

    def _write_failed(self, error: sqlite3.Error) -> OutputError:
        return OutputError(f"cannot update the ledger {display_path(self.path)}: {error}",
                           "free some disk space, then run the same command again")
