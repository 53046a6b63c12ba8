"""`emit --mode smtp` pipelines MAIL, RCPT and DATA (RFC 2920) when the server offers it, reads
every reply of a group in order, and keeps to lock-step with a server that does not; the
ledger's 'sent' rides on the next commit, and the last ones are written when a run ends."""

from __future__ import annotations

import re
import sqlite3

import pytest
from smtp_emit import (
    ledger,
    readers,
    short_smtp_waits,  # noqa: F401  (autouse: retries wait 10 ms)
    states,
    use_server,
    write_list,
)
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

from newsletter.emit.ledger import Entry, Ledger

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

BOTH = pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "lock-step"])


def send(project, server, addresses, tmp_path, *args, **limits):
    use_server(project, server.host, server.port, "none", **limits)
    listed = write_list(tmp_path / "list.csv", addresses)
    return project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed), *args)


@BOTH
def test_every_message_once_in_groups_only_when_the_server_offers_pipelining(
        sample_project, fault_server, tmp_path, pipelining):
    fault_server.plan = FaultPlan(pipelining=pipelining)
    result = send(sample_project, fault_server, readers(4), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(4)}
    assert [t.pipelined for t in fault_server.transactions] == [pipelining] * 4
    assert set(states(sample_project).values()) == {"sent"}  # the last 'sent' written too


@BOTH
def test_a_refused_rcpt_fails_that_subscriber_and_the_next_one_is_sent(
        sample_project, fault_server, tmp_path, pipelining):
    # Pipelined, the DATA after the refused RCPT is answered 503 and the client must read
    # that reply too before the next group, or every later reply would be one off.
    fault_server.plan = FaultPlan(pipelining=pipelining,
                                  rcpt_replies={"reader001@example.org": "550 5.1.1 No such user"})
    result = send(sample_project, fault_server, readers(3), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "  reader001@example.org: 550 5.1.1 No such user\n" in result.stdout
    rows = ledger(sample_project)
    assert rows["reader001@example.org"][::2] == ("failed", "550 5.1.1 No such user")
    assert rows["reader002@example.org"][0] == "sent"
    assert fault_server.delivered() == {"reader000@example.org": 1, "reader002@example.org": 1}
    assert [t.session for t in fault_server.transactions] == [1, 1]  # one session, in step


@BOTH
def test_a_reply_of_several_lines_is_read_whole_and_the_session_stays_in_step(
        sample_project, fault_server, tmp_path, pipelining):
    # Replies are read from the socket by our own reader (smtp_session._read_reply): a
    # refusal over several lines (RFC 5321 4.2.1) must be taken as one reply, not three.
    refusal = ("550-5.1.1 The mailbox reader001@example.org does not exist.\r\n"
               "550-5.1.1 Please check the address\r\n"
               "550 5.1.1 and try again")
    fault_server.plan = FaultPlan(pipelining=pipelining,
                                  rcpt_replies={"reader001@example.org": refusal})
    result = send(sample_project, fault_server, readers(4), tmp_path)
    assert result.exit_code == 0, result.stderr
    reply = ledger(sample_project)["reader001@example.org"][2]
    assert reply == ("550 5.1.1 The mailbox reader001@example.org does not exist. 5.1.1 "
                     "Please check the address 5.1.1 and try again")
    assert fault_server.delivered() == {a: 1 for a in readers(4) if a != "reader001@example.org"}
    assert len({t.session for t in fault_server.transactions}) == 1


def test_a_data_taken_after_a_refused_rcpt_gets_a_lone_dot(sample_project, fault_server,
                                                           tmp_path):
    fault_server.plan = FaultPlan(data_despite_refusal=True,
                                  rcpt_replies={"reader001@example.org": "550 5.1.1 No such user"})
    result = send(sample_project, fault_server, readers(3), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert states(sample_project) == {"reader000@example.org": "sent",
                                      "reader001@example.org": "failed",
                                      "reader002@example.org": "sent"}
    [empty] = fault_server.refused
    assert empty.data == b"" and empty.reply.startswith("554")  # not the message: a lone dot
    assert fault_server.delivered() == {"reader000@example.org": 1, "reader002@example.org": 1}


@BOTH
@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_a_421_in_the_middle_of_a_group_leaves_it_pending_and_a_new_session_sends_it(
        sample_project, fault_server, tmp_path, pipelining, where):
    plan = FaultPlan(pipelining=pipelining)
    if where == "rcpt":
        plan.nth_rcpt_replies = {2: "421 4.7.0 Too busy, closing"}
    else:  # the DATA command itself, the last of the group
        plan.data_command_replies = {2: "421 4.7.0 Too busy, closing"}
    fault_server.plan = plan
    result = send(sample_project, fault_server, readers(3), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(3)}
    assert set(states(sample_project).values()) == {"sent"}
    assert fault_server.sessions == 2  # the client hung up after the 421 and came back


@BOTH
def test_a_connection_dropped_after_the_dot_is_uncertain(sample_project, fault_server, tmp_path,
                                                         pipelining):
    fault_server.plan = FaultPlan(pipelining=pipelining, drop_after_dot={2})
    result = send(sample_project, fault_server, readers(3), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Uncertain: 1 .*\n  reader001@example.org  sent at ", result.stdout)
    assert states(sample_project) == {"reader000@example.org": "sent",
                                      "reader001@example.org": "sending",
                                      "reader002@example.org": "sent"}
    assert fault_server.delivered() == {"reader000@example.org": 1, "reader002@example.org": 1}


def test_sent_is_held_for_the_next_commit_and_written_at_the_end(tmp_path):
    def state_read_elsewhere(key: str) -> str:
        db = sqlite3.connect(tmp_path / "ledger.sqlite3")
        try:
            return db.execute("SELECT state FROM emitted WHERE address_key=?", (key,)
                              ).fetchone()[0]
        finally:
            db.close()

    with Ledger(tmp_path) as book:
        book.queue([Entry(k, k, "smtp", None, f"<{k}@m>") for k in ("a@x", "b@x", "c@x")], "r")
        book.mark_sending("a@x")
        book.mark_sent_later("a@x", "250 2.0.0 queued as A")
        assert state_read_elsewhere("a@x") == "sending"  # a kill now: uncertain, not resent
        book.mark_sending("b@x")  # one commit: a sent, b sending
        assert (state_read_elsewhere("a@x"), state_read_elsewhere("b@x")) == ("sent", "sending")
        rows = book.rows_of(["a@x", "b@x"])
        assert (rows["a@x"].reply, rows["b@x"].reply) == ("250 2.0.0 queued as A", None)
        assert rows["a@x"].sent_at is not None and rows["b@x"].sent_at is not None
        book.mark_sent_later("b@x", "250 2.0.0 queued as B")
        book.mark("c@x", "failed", "550 5.1.1 No such user")  # any commit takes it along
        assert state_read_elsewhere("b@x") == "sent"
        book.mark_sending("c@x")
        book.mark_sent_later("c@x", "250 2.0.0 queued as C")
    assert state_read_elsewhere("c@x") == "sent"  # closing the ledger writes what is held
    with Ledger(tmp_path) as book:
        assert book.rows_of(["c@x"])["c@x"].reply == "250 2.0.0 queued as C"
