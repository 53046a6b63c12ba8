"""The lock the sending processes share (sqlite_tx.ProcessLock): a process killed while it
holds the lock must not leave the others waiting for ever, as a semaphore would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from conftest import REPO

from newsletter.sqlite_tx import ProcessLock

TAKE_IT = ("import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
           "from newsletter.sqlite_tx import ProcessLock; "
           "lock = ProcessLock(Path(sys.argv[2]))\n"
           "with lock:\n    print('taken', flush=True)\n")
# Another process's attempt that does not wait: is the lock held right now?
IS_HELD = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
           "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
           "except BlockingIOError:\n    print('held')\nelse:\n    print('free')\n")


def test_a_process_killed_holding_the_lock_leaves_it_free(tmp_path):
    path = tmp_path / "shared.lock"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the holder: takes the lock, says so, and waits to be killed
        try:
            os.close(read)
            with ProcessLock(path):
                os.write(write, b"x")
                signal.pause()
        finally:
            os._exit(1)
    try:
        os.close(write)
        assert os.read(read, 1) == b"x"
        os.close(read)
        held = subprocess.run([sys.executable, "-c", IS_HELD, str(path)], capture_output=True,
                              text=True, timeout=30)
        assert held.stdout == "held\n", held.stderr
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # No process let go of it; the kernel did. (The timeout only stops a hang.)
    taken = subprocess.run([sys.executable, "-c", TAKE_IT, str(REPO), str(path)],
                           capture_output=True, text=True, timeout=30)
    assert taken.stdout == "taken\n", taken.stderr


def test_threads_of_one_process_take_it_in_turn(tmp_path):
    lock = ProcessLock(tmp_path / "shared.lock")
    with lock:
        assert not lock._thread.acquire(blocking=False)  # another thread would wait
    assert lock._thread.acquire(blocking=False)
    lock._thread.release()
