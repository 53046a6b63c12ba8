"""`emit --mode smtp` with its connections in several processes (emit/smtp_processes.py):
the same outcome as with threads. Everyone once, refusals and limits added up over the
processes, an error in one of them one line, and none left behind to hold the issue's lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from postfix_server import pause
from smtp_emit import ledger, readers, states, use_server, write_list
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

from newsletter.emit.smtp_processes import PROCESSES_ENV, process_count

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]


@pytest.fixture(autouse=True)
def two_processes(monkeypatch):
    monkeypatch.setenv(PROCESSES_ENV, "2")


def send(project, addresses, tmp_path, *args):
    listed = write_list(tmp_path / "list.csv", addresses)
    return project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed), *args)


def test_how_many_processes():
    assert process_count(1) == 1  # one connection: no process of its own
    assert process_count(3) == 2  # the test's setting, at most one a connection
    assert process_count(5) == 2


def test_refusals_and_retries_in_either_process_add_up_in_one_summary(sample_project,
                                                                       fault_server, tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none", connections=4)
    refused = "reader005@example.org"
    fault_server.plan = FaultPlan(rcpt_replies={refused: "550 5.1.1 No such user"},
                                  data_replies={3: "451 4.3.0 Try again later"},
                                  data_delay=0.02)
    addresses = readers(40)
    result = send(sample_project, addresses, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Sent: 39 message(s) through" in result.stdout
    assert f"Failed: 1 (refused by the server; not retried: --force tries them again):\n" \
           f"  {refused}: 550 5.1.1 No such user\n" in result.stdout
    assert fault_server.delivered() == {a: 1 for a in addresses if a != refused}
    rows = states(sample_project)
    assert rows.pop(refused) == "failed" and set(rows.values()) == {"sent"}
    assert len({t.session for t in fault_server.accepted}) == 4


def test_per_day_is_one_allowance_for_all_the_processes(sample_project, fault_server,
                                                        tmp_path, clock):
    use_server(sample_project, fault_server.host, fault_server.port, "none", connections=2,
               per_day=5)
    fault_server.plan = FaultPlan(data_delay=0.01)
    result = send(sample_project, readers(12), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert len(fault_server.accepted) == 5
    assert "Sent: 5 message(s)" in result.stdout
    assert "Pending: 7 (7 not tried yet)" in result.stdout
    assert "Stopped at smtp.per_day (5 message(s) in 24 hours)" in result.stdout
    for more in (5, 2):
        clock.advance(hours=24, seconds=1)
        assert f"Sent: {more} message(s)" in send(sample_project, readers(12), tmp_path).stdout
    assert fault_server.delivered() == {a: 1 for a in readers(12)}


def test_an_error_in_a_process_is_one_line_and_leaves_no_process_behind(sample_project,
                                                                         fault_server,
                                                                         tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none", connections=2)
    fault_server.plan = FaultPlan(greeting="554 5.7.1 No SMTP service here")
    result = send(sample_project, readers(6), tmp_path)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "refused the connection: 554 5.7.1 No SMTP service here" in errors[0]
    assert "(hint: check smtp.host and smtp.port)" in errors[0]
    assert "Traceback" not in result.stderr
    assert set(states(sample_project).values()) == {"pending"}
    fault_server.plan = FaultPlan()
    again = send(sample_project, readers(6), tmp_path)  # no process holds the emit lock
    assert again.exit_code == 0, again.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(6)}


def start(project, listed: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, PROCESSES_ENV: "2", "NEWSLETTER_SMTP_RETRY_WAIT": "0.01"}
    return subprocess.Popen([sys.executable, str(REPO / "send.py"), "--project",
                             str(project.root), "emit", "2", "--mode", "smtp",
                             "--subscribers", str(listed)],
                            cwd=project.root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def sending_processes(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(n) for n in children.read_text().split()] if children.exists() else []


def wait_until(ready, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        assert time.monotonic() < deadline and process.poll() is None, "never sent"
        pause(0.01)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_at_a_terminal_reaches_every_process_and_none_leaves_a_message_uncertain(
        sample_project, fault_server, tmp_path):
    """A terminal sends SIGINT to the whole foreground group: the sending processes too."""
    use_server(sample_project, fault_server.host, fault_server.port, "none", connections=2)
    fault_server.plan = FaultPlan(data_delay=0.3)
    addresses = readers(12)
    process = start(sample_project, write_list(tmp_path / "list.csv", addresses),
                    start_new_session=True)
    wait_until(lambda: len(sending_processes(process.pid)) == 2 and fault_server.sessions == 2,
               process)
    pause(0.45)  # messages are waiting for their replies in both processes
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "Interrupted: the messages in flight were finished" in out
    assert "Traceback" not in err
    assert "sending" not in set(states(sample_project).values())
    assert fault_server.unacknowledged == []
    first = fault_server.delivered()
    assert 0 < len(first) < len(addresses)
    fault_server.plan = FaultPlan()
    again = start(sample_project, tmp_path / "list.csv")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err
    assert fault_server.delivered() == {a: 1 for a in addresses}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_a_sending_process_killed_alone_is_one_error_and_a_resume_sends_the_rest_once(
        sample_project, fault_server, tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none", connections=2)
    fault_server.plan = FaultPlan(data_delay=0.1)
    addresses = readers(30)
    listed = write_list(tmp_path / "list.csv", addresses)
    process = start(sample_project, listed)
    wait_until(lambda: len(fault_server.accepted) >= 4, process)
    victim = sending_processes(process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, out + err
    assert f"Error: a sending process (pid {victim}) ended unexpectedly" in err
    assert "Traceback" not in err
    uncertain = {a for a, state in states(sample_project).items() if state == "sending"}
    assert len(uncertain) <= 1  # the one its connection had in flight, at most
    fault_server.plan = FaultPlan()
    again = start(sample_project, listed)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err
    delivered = fault_server.delivered()
    assert set(delivered) | uncertain == set(addresses)  # nobody lost
    assert max(delivered.values()) == 1  # nobody twice
    assert ledger(sample_project).keys() == set(addresses)
