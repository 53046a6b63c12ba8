"""One SQLite write transaction for our files (the ledger, the subscriber store): all of it or
none of it, also when the process is killed halfway."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DatabaseBusy(sqlite3.OperationalError):
    """Another process holds the write lock past the connection's timeout."""


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (the write lock first, so no reader turns writer and deadlocks),
    COMMIT at the end, ROLLBACK on any exception. Its own errors propagate: each caller
    words them (a full disk for the ledger, another import for the store)."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            raise DatabaseBusy(str(exc)) from None
        raise
    try:
        yield
    except BaseException:
        # SQLite may have rolled back already (a full disk does): then the error to show
        # is the one that did it, not "no transaction is active".
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def use_wal(db: sqlite3.Connection, timeout: float) -> None:
    """PRAGMA journal_mode=WAL, waiting (up to `timeout` seconds) while another process does
    the same to a new file: SQLite answers that pragma "database is locked" at once, without
    its busy handler, so two first imports started together would fail one of them."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class ProcessWriters:
    """One writer at a time among processes that share a database (an SMTP run's sending
    processes): an exclusive flock on the database's folder around each write transaction.
    SQLite would serialise them too, but its busy handler sleeps a millisecond or more each
    time it finds the lock taken; a flock waiter is woken the moment it is free, and the
    kernel lets go of it if its holder dies. Off until `share`; each process opens the
    folder itself (a flock belongs to an open file, which fork would share)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.shared = False
        self._fd: int | None = None
        self._pid = 0

    def share(self) -> None:
        self.shared = True

    @contextmanager
    def one_at_a_time(self) -> Iterator[None]:
        if not self.shared:
            yield
            return
        if self._pid != os.getpid():
            self._fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self._pid = os.getpid()
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
