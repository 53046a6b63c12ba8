"""`emit --mode smtp` killed (SIGKILL) at random moments and resumed: nobody gets two messages
but those listed as uncertain, nobody is lost; Ctrl-C and SIGTERM leave nothing uncertain."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import REPO
from postfix_server import pause
from smtp_emit import header, readers, states, use_server, write_list
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

from newsletter.emit.smtp_processes import PROCESSES_ENV

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

CONNECTIONS = 2


@pytest.fixture(params=["1", "2"], ids=["threads", "processes"])
def processes(request, monkeypatch):
    """The connections as threads of one process, or in two (emit/smtp_processes.py)."""
    monkeypatch.setenv(PROCESSES_ENV, request.param)


def start(project, listed, *args: str) -> subprocess.Popen:
    env = {**os.environ, "NEWSLETTER_SMTP_RETRY_WAIT": "0.01"}
    return subprocess.Popen([sys.executable, str(REPO / "send.py"), "--project",
                             str(project.root), "emit", "2", "--mode", "smtp",
                             "--subscribers", str(listed), *args],
                            cwd=project.root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def wait_for_session(server, before: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while server.sessions == before and process.poll() is None:
        assert time.monotonic() < deadline, "the run never connected"
        pause(0.005)


def listed_uncertain(output: str) -> set[str]:
    return set(re.findall(r"^  (\S+@\S+)  sent at ", output, re.MULTILINE))


def test_killed_at_random_moments_and_resumed_nobody_twice_nobody_lost(sample_project,
                                                                       fault_server, tmp_path,
                                                                       processes):
    use_server(sample_project, fault_server.host, fault_server.port, "none",
               connections=CONNECTIONS, messages_per_connection=5)
    fault_server.plan = FaultPlan(data_delay=0.2)
    addresses = readers(120)
    listed = write_list(tmp_path / "list.csv", addresses)
    rng = random.Random(1305)
    uncertain_before = 0
    kills = 0
    started = time.monotonic()
    for _ in range(22):
        before = fault_server.sessions
        process = start(sample_project, listed)
        wait_for_session(fault_server, before, process)
        pause(rng.uniform(0, 0.5))
        process.send_signal(signal.SIGKILL)
        code, output = finish(process)
        kills += code == -signal.SIGKILL
        now_uncertain = sum(1 for s in states(sample_project).values() if s == "sending")
        # at most one message in flight per connection when the run died
        assert now_uncertain - uncertain_before <= CONNECTIONS, output
        uncertain_before = now_uncertain
        assert time.monotonic() - started < 120  # about 25 s on an idle machine
    fault_server.plan = FaultPlan()
    code, output = finish(start(sample_project, listed))
    assert code == 0, output
    uncertain = listed_uncertain(output)
    assert len(uncertain) == uncertain_before
    delivered = fault_server.delivered()
    assert set(delivered) | uncertain == set(addresses)  # nobody lost
    assert max(delivered.values()) == 1  # nobody twice without --resend-uncertain
    code, output = finish(start(sample_project, listed, "--resend-uncertain"))
    assert code == 0, output
    delivered = fault_server.delivered()
    assert set(delivered) == set(addresses)
    twice = {address for address, n in delivered.items() if n > 1}
    assert twice <= uncertain and max(delivered.values()) <= 2
    for address in twice:  # a resend carries the Message-ID of the first copy
        ids = {header(t.data, "Message-ID") for t in fault_server.accepted
               if t.rcpt_tos == (address,)}
        assert len(ids) == 1
    assert set(states(sample_project).values()) == {"sent"}
    assert kills >= 20


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_lets_messages_in_flight_finish_and_leaves_nothing_uncertain(
        sample_project, fault_server, tmp_path, signum, processes):
    use_server(sample_project, fault_server.host, fault_server.port, "none",
               connections=CONNECTIONS)
    fault_server.plan = FaultPlan(data_delay=0.3)
    addresses = readers(12)
    listed = write_list(tmp_path / "list.csv", addresses)
    process = start(sample_project, listed)
    wait_for_session(fault_server, 0, process)
    pause(0.45)  # the first messages are waiting for their replies
    process.send_signal(signum)
    code, output = finish(process)
    assert code == 130, output
    assert "Interrupted: the messages in flight were finished" in output
    assert "sending" not in set(states(sample_project).values())
    assert fault_server.unacknowledged == []
    sent_first = Counter(fault_server.delivered())
    assert 0 < len(sent_first) < len(addresses)
    fault_server.plan = FaultPlan()
    code, output = finish(start(sample_project, listed))
    assert code == 0, output
    assert fault_server.delivered() == {a: 1 for a in addresses}
