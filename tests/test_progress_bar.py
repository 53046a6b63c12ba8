"""On a terminal, `emit --mode smtp` shows a bar with the count, the rate and the time left,
drawn at most ten times a second whatever the rate (not once a message); in a pipe, none."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from conftest import REPO
from smtp_emit import readers, use_server, write_list
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

from newsletter.commands.base import ProgressBar

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

COUNT = 200


def run_on_a_terminal(command: list[str], cwd) -> tuple[int, str, float]:
    """The command with its stderr on a pseudo-terminal: (exit code, what it drew, seconds)."""
    parent, child = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=child)
    os.close(child)
    drawn = bytearray()
    while True:
        ready, _, _ = select.select([parent], [], [], 1.0)
        if ready:
            try:
                data = os.read(parent, 65536)
            except OSError:  # the terminal closed: the run ended
                break
            if not data:
                break
            drawn += data
        elif process.poll() is not None:
            break
    code = process.wait(60)
    os.close(parent)
    return code, drawn.decode("utf-8", "replace"), time.monotonic() - started


def test_the_bar_shows_count_and_rate_and_is_drawn_at_most_ten_times_a_second(
        sample_project, fault_server, tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    fault_server.plan = FaultPlan()
    listed = write_list(tmp_path / "list.csv", readers(COUNT))
    code, drawn, seconds = run_on_a_terminal(
        [sys.executable, str(REPO / "send.py"), "--project", str(sample_project.root), "emit",
         "2", "--mode", "smtp", "--subscribers", str(listed)], sample_project.root)
    assert code == 0, drawn
    assert len(fault_server.delivered()) == COUNT
    draws = re.findall(r"Sending  \[[#-]*\]\s+(\d+)/" + str(COUNT), drawn)
    assert draws and draws[-1] == str(COUNT)  # the last drawing shows every message
    assert re.search(rf"{COUNT}/{COUNT}\s+[\d.]+/s", drawn)  # and the rate
    assert [int(n) for n in draws] == sorted(int(n) for n in draws)
    # at most one drawing every 0.1 seconds, plus the first and the last
    assert len(draws) <= seconds / ProgressBar.REDRAW + 2, (len(draws), seconds)
    assert len(draws) < COUNT


def test_in_a_pipe_there_is_no_bar(sample_project, fault_server, tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    listed = write_list(tmp_path / "list.csv", readers(3))
    done = subprocess.run([sys.executable, str(REPO / "send.py"), "--project",
                           str(sample_project.root), "emit", "2", "--mode", "smtp",
                           "--subscribers", str(listed)], cwd=sample_project.root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Sending" not in done.stderr and "\x1b" not in done.stderr
