"""An SMTP run's connections spread over processes, one a core: Python runs one thread at a
time, and building, dot-stuffing and committing each message kept a run of four connections
on one core while the server waited (bench/RESULTS.md, "SMTP").

Each sending process is forked once, at the run's first subscribers, and keeps its share of
the connections for the whole run. Every batch (emit's chunk of the list) is given to all of
them, and each takes the next subscriber from a counter they share, so a slow connection
takes fewer. Each writes the ledger through a connection of its own, one writer at a time
(a sqlite_tx.ProcessLock), and its 'sent' marks are on disk before it reports the batch
done. smtp.per_minute, smtp.per_day, the stop flag, the batch's counter and the progress
count live in shared memory made before the fork, under a flock (sqlite_tx.ProcessLock), which the
kernel lets go of if a process dies holding it. The ledger's SQLite connection does not cross
the fork (Ledger.forking); a list read from the subscriber store keeps its connection open
across it, so a sending process must never open the store.

A process ends with the run: on Linux the kernel kills it when the run dies
(PR_SET_PDEATHSIG), so a killed run leaves at most one uncertain message per connection, as
threads did; elsewhere at the end of its pipe. It inherits the emit lock (.emit.lock), so no
new run of the issue can start while one of them is still sending.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol

from ..errors import NewsletterError
from ..sqlite_tx import ProcessLock
from .ledger import Ledger

PROCESSES_ENV = "NEWSLETTER_SMTP_PROCESSES"  # how many, instead of one a core (the tests)
_PROGRESS_EVERY = 0.2  # seconds between the run's looks at the progress count
_PR_SET_PDEATHSIG = 1
SHARED_LOCK = ".smtp-processes.lock"


class Sender(Protocol):
    """What a sending process needs of the smtp mode (emit/smtp.py)."""

    ledger: Ledger
    outcome: Any
    fatal: BaseException | None
    stopping: bool
    report_progress: Callable[[int], None]

    def new_outcome(self) -> Any: ...
    def absorb(self, outcome: Any) -> None: ...
    def send_over(self, next_item: Callable[[], Any], sessions: Sequence[Any]) -> None: ...
    def on_signal(self, signum: int, frame: Any) -> None: ...


def process_count(connections: int) -> int:
    """One process a core, at most one a connection; 1 (threads only) where there is no fork.
    NEWSLETTER_SMTP_PROCESSES sets it (the tests run both ways on any machine)."""
    if not hasattr(os, "fork") or connections < 2:
        return 1
    text = os.environ.get(PROCESSES_ENV)
    if text:
        try:
            wanted = int(text)
        except ValueError:
            raise NewsletterError(f"{PROCESSES_ENV}={text!r} is not a whole number",
                                  f"unset {PROCESSES_ENV}, or set it to 1 or more") from None
        return max(1, min(wanted, connections))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, connections))


def shared_lock(folder: Path) -> ProcessLock:
    """The lock of the numbers the processes share (the batch's counter, the progress count,
    smtp.per_minute's next slot, smtp.per_day's count): a file in the issue's folder, made
    before the fork, removed when the processes are gone."""
    return ProcessLock(folder / SHARED_LOCK)


class SendingProcesses:
    """The processes, forked by the constructor, each with `sessions[n::count]`. `lock` is
    `shared_lock`'s, also given to Pace and DailyLimit."""

    def __init__(self, mode: Sender, sessions: Sequence[Any], count: int,
                 lock: ProcessLock) -> None:
        self.mode, self.lock = mode, lock
        self.cursor = multiprocessing.RawValue("q", 0)  # the batch's next subscriber (under lock)
        self.done = multiprocessing.RawValue("q", 0)    # messages handled, for the progress bar
        self.shown = 0
        self.todo: list[Any] = []
        self.children: list[tuple[int, Connection]] = []
        parent = os.getpid()
        with lock:  # made now, by the run, with the mode of the other files
            pass
        try:
            with mode.ledger.forking():
                for n in range(count):
                    ours, theirs = multiprocessing.Pipe()
                    try:
                        pid = os.fork()
                    except OSError as error:
                        ours.close()
                        theirs.close()
                        raise NewsletterError(f"cannot start a sending process: {error}",
                                              f"set {PROCESSES_ENV}=1 to send from this "
                                              "process alone") from None
                    if pid == 0:  # the sending process: never returns
                        try:
                            ours.close()
                            for _, other in self.children:
                                other.close()
                            self._serve(theirs, sessions[n::count], parent)
                        finally:
                            os._exit(1)
                    theirs.close()
                    self.children.append((pid, ours))
        except BaseException:
            with contextlib.suppress(Exception):
                self.close()  # those already started end at once
            raise

    # --- the run's side --------------------------------------------------------------------

    def send(self, todo: list[Any]) -> None:
        """Send the batch over every process; their outcomes go into the mode's. Raises the
        first error that stopped one of them, once all have finished what was in flight."""
        self.todo = todo
        self.cursor.value = 0  # the processes are between batches: nobody else reads it
        error: BaseException | None = None
        waiting: dict[Connection, int] = {}
        try:
            for pid, connection in self.children:
                try:
                    connection.send(todo)
                    waiting[connection] = pid
                except OSError:
                    error = error or _ended(pid)
                    self.mode.stopping = True
            while waiting:
                for connection in wait(list(waiting), _PROGRESS_EVERY):
                    outcome, failure = self._reply(connection, waiting.pop(connection))
                    if outcome is not None:
                        self.mode.absorb(outcome)
                    if failure is not None:
                        error = error or failure
                        self.mode.stopping = True
                self._show_progress()
        except BaseException:
            self.mode.stopping = True  # the others finish what is in flight, no more
            raise
        left = len(todo) - min(self.cursor.value, len(todo))  # never started: still pending
        self.mode.outcome.not_tried += left
        self.mode.report_progress(left)
        if error is not None:
            raise error

    def close(self) -> None:
        """Each process ends its sessions (QUIT) and writes what it holds, then exits."""
        children, self.children = self.children, []
        error: BaseException | None = None
        for _pid, connection in children:
            with contextlib.suppress(OSError):
                connection.send(None)
        for pid, connection in children:
            _, failure = self._reply(connection, pid)
            error = error or failure
            connection.close()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        with contextlib.suppress(FileNotFoundError):
            self.lock.path.unlink()
        self.lock.close()
        if error is not None:
            raise error

    def _reply(self, connection: Connection, pid: int) -> tuple[Any, BaseException | None]:
        try:
            outcome, failure = connection.recv()
        except (EOFError, OSError):
            return None, _ended(pid)
        return outcome, (_rebuilt(failure) if failure is not None else None)

    def _show_progress(self) -> None:
        done = self.done.value  # read without the lock: an 8-byte word is read whole
        if done > self.shown:
            self.mode.report_progress(done - self.shown)
            self.shown = done

    # --- a sending process -----------------------------------------------------------------

    def _serve(self, connection: Connection, sessions: Sequence[Any], parent: int) -> None:
        """The loop of a sending process: a batch in, its outcome out, until told to stop."""
        code = 0
        mode = self.mode
        try:
            _die_with(parent)
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, mode.on_signal)
            mode.ledger.in_forked_process()
            mode.report_progress = self._count
            while (todo := connection.recv()) is not None:
                self.todo = todo
                mode.outcome, mode.fatal = mode.new_outcome(), None
                mode.send_over(self._next_item, sessions)
                connection.send((mode.outcome, _portable(mode.fatal)))
            for session in sessions:
                session.quit()
            mode.ledger.close_in_forked_process()
            connection.send((None, None))
        except EOFError:
            code = 1  # the run is gone: nothing more to do
        except BaseException as error:
            code = 1
            with contextlib.suppress(Exception):
                connection.send((None, _portable(error)))
        finally:
            os._exit(code)

    def _next_item(self) -> Any:
        with self.lock:
            at = self.cursor.value
            if self.mode.stopping or at >= len(self.todo):
                return None
            self.cursor.value = at + 1
        return self.todo[at]

    def _count(self, count: int) -> None:
        with self.lock:
            self.done.value += count


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this process when the run dies, as it would a thread."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _portable(error: BaseException | None) -> Any:
    """An error as the run can rebuild it: ours with their message and hint (pickle would
    drop the hint), any other as itself if it pickles, else as its text."""
    if error is None:
        return None
    if isinstance(error, NewsletterError):
        return ("ours", type(error), error.message, error.hint)
    try:
        pickle.dumps(error)
    except Exception:
        return ("text", f"{type(error).__name__}: {error}")
    return ("as is", error)


def _rebuilt(failure: Any) -> BaseException:
    kind = failure[0]
    if kind == "ours":
        try:
            return failure[1](failure[2], failure[3])
        except TypeError:  # a subclass with other arguments
            return NewsletterError(failure[2], failure[3])
    if kind == "text":
        return RuntimeError(failure[1])
    return failure[1]


def _ended(pid: int) -> NewsletterError:
    return NewsletterError(f"a sending process (pid {pid}) ended unexpectedly",
                           "run the same command again: the ledger knows what was sent")
