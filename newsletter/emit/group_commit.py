"""Group commit: the connections of an SMTP run each need their message's 'sending' on disk
before its content goes out; those that ask while a commit is under way are written together
by the next one, so four connections pay for one commit, not four, when they arrive together.

Each caller still returns only once its own item is committed (or raises the commit's error):
the exactly-once guarantee of one 'sending' before each message is unchanged. Waits are on a
Condition with no timeout (a timed wait would hang under CI's moved clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class _Batch(Generic[Item]):
    __slots__ = ("done", "error", "items")

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.done = False
        self.error: BaseException | None = None


class GroupCommit(Generic[Item]):
    """`submit(item)` returns once `commit` has run, successfully, on a list holding `item`."""

    def __init__(self, commit: Callable[[list[Item]], None]) -> None:
        self._commit = commit
        self._turn = threading.Condition(threading.Lock())
        self._open: _Batch[Item] = _Batch()  # the batch the next commit takes
        self._committing = False
        self.commits = 0  # how many commits ran (for the tests and the benchmark's notes)

    def submit(self, item: Item) -> None:
        with self._turn:
            batch = self._open
            batch.items.append(item)
            while self._committing and not batch.done:
                self._turn.wait()
            if not batch.done:  # nobody is committing: this thread commits the open batch
                self._committing = True
                self._open = _Batch()
                lead = True
            else:
                lead = False
        if lead:
            try:
                self._commit(batch.items)
            except BaseException as error:  # every caller of the batch sees it
                batch.error = error
            finally:  # even a KeyboardInterrupt here must not leave the others waiting
                with self._turn:
                    batch.done = True
                    self._committing = False
                    self.commits += 1
                    self._turn.notify_all()
        if batch.error is not None:
            raise batch.error
