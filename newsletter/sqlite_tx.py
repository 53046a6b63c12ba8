"""One SQLite write transaction for our files (the ledger, the subscriber store): all of it or
none of it, also when the process is killed halfway."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager


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
