"""One SQLite write transaction for our files (the ledger, the subscriber store): all of it or
none of it, also when the process is killed halfway."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType


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


class ProcessLock:
    """`with lock:`: one holder at a time among the threads and the processes of a run (an
    SMTP run's sending processes): a thread lock, then an exclusive flock on `path`, a folder
    or a file (made empty if missing).

    A flock, not a semaphore, because the kernel lets go of it when its holder dies: a
    process killed inside a few-microsecond section must leave the others an error to
    report, not a lock held for ever. A flock belongs to an open file, which a fork shares,
    so each process opens the path itself, the first time it takes the lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> ProcessLock:
        self._thread.acquire()
        try:
            if self._pid != os.getpid():
                self._fd = self._open()
                self._pid = os.getpid()
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()

    def close(self) -> None:
        """This process's file of the lock, when it is no longer needed."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = None, 0

    def _open(self) -> int:
        if self.path.is_dir():
            return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
