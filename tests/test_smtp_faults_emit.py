"""`emit --mode smtp` against the fault server: every reply a relay can give, and who ends
sent, failed, pending or uncertain; a resume delivers the rest exactly once."""

from __future__ import annotations

import re
import time

from smtp_emit import (
    ISSUE_DIR,
    header,
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

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]



def send(project, addresses, tmp_path, *args):
    listed = write_list(tmp_path / "list.csv", addresses)
    return project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed), *args)


def setup(project, server, **limits):
    use_server(project, server.host, server.port, "none", **limits)


def test_all_delivered_once_with_security_none_on_loopback(sample_project, fault_server,
                                                             tmp_path):
    setup(sample_project, fault_server)
    result = send(sample_project, readers(5), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(5)}
    assert "Sent: 5 message(s) through" in result.stdout
    assert set(states(sample_project).values()) == {"sent"}
    assert all(row[2].startswith("250 2.0.0 OK queued as F") for row in
               ledger(sample_project).values())
    for t in fault_server.accepted:
        assert header(t.data, "To").endswith(f"<{t.rcpt_tos[0]}>")
        assert header(t.data, "X-Unsent") is None and header(t.data, "Bcc") is None
    again = send(sample_project, readers(5), tmp_path)
    assert "5 subscriber(s) already had this issue" in again.stdout
    assert len(fault_server.accepted) == 5


def test_421_at_connect_leaves_everyone_pending_then_a_resume_sends(sample_project,
                                                                      fault_server, tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(greeting="421 4.3.2 Service not available")
    result = send(sample_project, readers(4), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Sent: 0 message(s)" in result.stdout
    assert "Pending: 4 (throttled or refused for now, last: 421 4.3.2 Service not available" \
        in result.stdout
    assert "Stopped: the server keeps answering 421 4.3.2" in result.stdout
    assert set(states(sample_project).values()) == {"pending"}
    fault_server.plan = FaultPlan()
    assert send(sample_project, readers(4), tmp_path).exit_code == 0
    assert fault_server.delivered() == {a: 1 for a in readers(4)}


def test_451_and_454_mid_run_are_retried_and_all_delivered_once(sample_project, fault_server,
                                                                 tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(data_replies={2: "451 4.3.0 Try again later",
                                                4: "454 4.7.0 Throttling failure"})
    result = send(sample_project, readers(6), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(6)}
    assert [t.reply[:3] for t in fault_server.refused] == ["451", "454"]
    assert set(states(sample_project).values()) == {"sent"}


def test_452_on_rcpt_is_retried(sample_project, fault_server, tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(nth_rcpt_replies={2: "452 4.5.3 Too many recipients"})
    assert send(sample_project, readers(3), tmp_path).exit_code == 0
    assert fault_server.delivered() == {a: 1 for a in readers(3)}


def test_a_4xx_that_persists_leaves_that_one_pending_and_says_so(sample_project, fault_server,
                                                                 tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(rcpt_replies={"reader001@example.org": "450 4.2.0 Mailbox busy"})
    result = send(sample_project, readers(3), tmp_path)
    assert "Pending: 1 (throttled or refused for now, last: 450 4.2.0 Mailbox busy)" \
        in result.stdout
    assert states(sample_project)["reader001@example.org"] == "pending"
    assert fault_server.delivered() == {"reader000@example.org": 1, "reader002@example.org": 1}
    fault_server.plan = FaultPlan()
    send(sample_project, readers(3), tmp_path)
    assert fault_server.delivered() == {a: 1 for a in readers(3)}


def test_550_for_one_recipient_fails_it_and_sends_the_others(sample_project, fault_server,
                                                             tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(rcpt_replies={"reader002@example.org": "550 5.1.1 No such user"})
    result = send(sample_project, readers(4), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Failed: 1 (refused by the server; not retried: --force tries them again):\n" \
           "  reader002@example.org: 550 5.1.1 No such user\n" in result.stdout
    assert ledger(sample_project)["reader002@example.org"][::2] == ("failed",
                                                                   "550 5.1.1 No such user")
    assert fault_server.delivered() == {a: 1 for a in readers(4) if a != "reader002@example.org"}
    fault_server.plan = FaultPlan()
    again = send(sample_project, readers(4), tmp_path)
    assert "Failed: 1 (refused by the server, 1 of them in an earlier run" in again.stdout
    assert "reader002@example.org" not in fault_server.delivered()
    send(sample_project, readers(4), tmp_path, "--force")
    assert fault_server.delivered() == {a: 1 for a in readers(4)}


def test_a_drop_after_the_dot_is_uncertain_and_resent_only_when_asked(sample_project,
                                                                      fault_server, tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(drop_after_dot={3})
    result = send(sample_project, readers(5), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Uncertain: 1 \(.*--resend-uncertain.*\):\n  reader002@example.org  sent "
                     r"at 2026-12-15T12:00:00\+00:00\n", result.stdout)
    assert states(sample_project)["reader002@example.org"] == "sending"
    assert fault_server.delivered() == {a: 1 for a in readers(5) if a != "reader002@example.org"}
    [lost] = fault_server.unacknowledged
    again = send(sample_project, readers(5), tmp_path)
    assert "Uncertain: 1" in again.stdout and "reader002@example.org  sent at" in again.stdout
    assert len(fault_server.transactions) == 5
    resent = send(sample_project, readers(5), tmp_path, "--resend-uncertain")
    assert "Sent: 1 message(s)" in resent.stdout and "Uncertain" not in resent.stdout
    assert fault_server.delivered() == {a: 1 for a in readers(5)}
    assert header(fault_server.accepted[-1].data, "Message-ID") == header(lost.data, "Message-ID")


def test_a_slow_reply_is_waited_for(sample_project, fault_server, tmp_path):
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(data_delays={2: 0.5})
    started = time.monotonic()
    assert send(sample_project, readers(3), tmp_path).exit_code == 0
    assert time.monotonic() - started >= 0.5
    assert fault_server.delivered() == {a: 1 for a in readers(3)}
    assert fault_server.unacknowledged == []


def test_a_session_cut_after_n_messages_reconnects(sample_project, fault_server, tmp_path):
    setup(sample_project, fault_server, messages_per_connection=100)
    fault_server.plan = FaultPlan(messages_per_session=3)
    assert send(sample_project, readers(8), tmp_path).exit_code == 0
    assert fault_server.delivered() == {a: 1 for a in readers(8)}
    assert [t.session for t in fault_server.accepted] == [1, 1, 1, 2, 2, 2, 3, 3]


def test_messages_per_connection_reconnects_before_the_provider_cuts(sample_project,
                                                                    fault_server, tmp_path):
    setup(sample_project, fault_server, messages_per_connection=2)
    fault_server.plan = FaultPlan(messages_per_session=3)
    assert send(sample_project, readers(5), tmp_path).exit_code == 0
    assert [t.session for t in fault_server.accepted] == [1, 1, 2, 2, 3]
    assert fault_server.refused == []


def test_several_connections_deliver_each_once(sample_project, fault_server, tmp_path):
    setup(sample_project, fault_server, connections=3)
    fault_server.plan = FaultPlan(data_delay=0.02)
    assert send(sample_project, readers(12), tmp_path).exit_code == 0
    assert fault_server.delivered() == {a: 1 for a in readers(12)}
    assert len({t.session for t in fault_server.accepted}) == 3


def test_per_day_stops_and_says_when_to_go_on(sample_project, fault_server, tmp_path, clock):
    setup(sample_project, fault_server, per_day=3)
    result = send(sample_project, readers(5), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert len(fault_server.accepted) == 3
    assert "Pending: 2 (2 not tried yet)" in result.stdout
    until = clock.now.astimezone().strftime("%Y-%m-%d %H:%M %z")
    assert "Stopped at smtp.per_day (3 message(s) in 24 hours): run the same command again " \
           f"after {until.replace('-12-15', '-12-16')}." in result.stdout
    clock.advance(hours=12)  # the three are still within the last 24 h
    assert "Sent: 0 message(s)" in send(sample_project, readers(5), tmp_path).stdout
    clock.advance(hours=12, seconds=1)
    assert "Sent: 2 message(s)" in send(sample_project, readers(5), tmp_path).stdout
    assert fault_server.delivered() == {a: 1 for a in readers(5)}


def test_per_minute_is_honoured(sample_project, fault_server, tmp_path):
    setup(sample_project, fault_server, per_minute=1200)  # one every 50 ms
    started = time.monotonic()
    assert send(sample_project, readers(11), tmp_path).exit_code == 0
    assert time.monotonic() - started >= 0.5  # ten intervals after the first message
    assert len(fault_server.accepted) == 11


def test_auth_offered_without_tls_gets_no_credentials(sample_project, make_fault_server,
                                                      tmp_path, monkeypatch):
    server = make_fault_server(auth=True)  # offers AUTH over plain text
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", server.password)
    setup(sample_project, server)
    assert send(sample_project, readers(2), tmp_path).exit_code == 0
    assert server.logins == [] and server.delivered() == {a: 1 for a in readers(2)}
    use_server(sample_project, server.host, server.port, "none", username=server.user)
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1
    assert any("smtp.username: is set with security none" in line for line in result.errors)
    assert server.logins == []


def test_security_none_is_refused_for_a_remote_host(sample_project, tmp_path):
    use_server(sample_project, "smtp.fastmail.com", 587, "none")
    result = send(sample_project, readers(1), tmp_path)
    assert result.exit_code == 1
    assert re.search(r"newsletter.yaml:\d+: smtp.security: none \(no TLS\) is allowed only for "
                     r"a server on this computer", result.errors[0])


def test_without_an_smtp_section_the_mode_is_refused(sample_project, tmp_path):
    result = send(sample_project, readers(1), tmp_path)
    assert result.exit_code == 1
    assert result.errors == ["Error: --mode smtp cannot be used: newsletter.yaml has no smtp: "
                             "section (add one with smtp.host and, for a login, smtp.username; "
                             "README lists providers' settings) (hint: fix that, or use one of: "
                             "eml, bcc, mailto)"]
    assert not sample_project.out.exists()


def test_a_refused_connection_is_one_error_line(sample_project, tmp_path):
    from imap_server import _free_port

    use_server(sample_project, "127.0.0.1", _free_port(), "none")
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1
    assert len(result.errors) == 1
    assert re.fullmatch(r"Error: cannot connect to 127\.0\.0\.1:\d+: Connection refused \(hint: "
                        r"check smtp\.host and smtp\.port.*\)", result.errors[0])
    assert "sent" not in set(states(sample_project).values())


V1_LEDGER = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE emitted (
    address_key TEXT PRIMARY KEY, address TEXT NOT NULL, mode TEXT NOT NULL,
    file TEXT NOT NULL, message_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')), run TEXT NOT NULL,
    at TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO emitted VALUES ('reader000@example.org', 'reader000@example.org', 'eml',
    'outbox/a.eml', '<a@mindshape.io>', 'done', 'r1', '2026-12-01T10:00:00+00:00');
"""


def test_a_version_1_ledger_is_migrated_and_what_went_out_is_counted(sample_project,
                                                                     fault_server, tmp_path):
    import sqlite3

    from newsletter.emit.ledger import Ledger

    folder = sample_project.out / ISSUE_DIR
    folder.mkdir(parents=True, mode=0o700)
    sample_project.out.chmod(0o700)
    db = sqlite3.connect(folder / "ledger.sqlite3")
    db.executescript(V1_LEDGER)
    db.close()
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(rcpt_replies={"reader002@example.org": "550 5.1.1 No"})
    result = send(sample_project, readers(3), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "1 subscriber(s) already had this issue" in result.stdout
    assert fault_server.delivered() == {"reader001@example.org": 1}
    with Ledger(folder) as opened:
        assert opened.meta("schema") == "2"
        assert opened.counts() == {("eml", "done"): 1, ("smtp", "failed"): 1,
                                   ("smtp", "sent"): 1}
        assert [row.address for row in opened.in_state("failed")] == ["reader002@example.org"]


def test_a_password_smtplib_cannot_send_is_one_error_line(sample_project, tmp_path,
                                                          monkeypatch):
    # smtplib encodes AUTH as ASCII: a non-ASCII password was an "internal error" line.
    secret = "geheim-pässwörd"
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", secret)
    use_server(sample_project, "localhost", 1, "tls", username="editor")
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1 and len(result.errors) == 1, result.stderr
    assert result.errors[0].startswith("Error: NEWSLETTER_SMTP_PASSWORD has non-ASCII")
    assert "internal error" not in result.stderr and secret not in result.stderr + result.stdout
    assert not sample_project.out.exists()


def test_a_bracketed_address_literal_host_connects(sample_project, fault_server, tmp_path):
    # smtp.host accepts an address literal ([127.0.0.1]); the socket needs it bare.
    use_server(sample_project, f"'[{fault_server.host}]'", fault_server.port, "none")
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(2)}


def test_drafts_after_an_smtp_run_leave_out_whoever_may_have_the_message(sample_project,
                                                                         fault_server, tmp_path):
    # A reply lost after the final dot: the server may have the message. Switching to drafts
    # must not give that reader a second copy; --force is the editor saying to anyway.
    setup(sample_project, fault_server)
    fault_server.plan = FaultPlan(drop_after_dot={3})
    assert send(sample_project, readers(5), tmp_path).exit_code == 0
    assert states(sample_project)["reader002@example.org"] == "sending"
    listed = tmp_path / "list.csv"
    drafts = sample_project.run("emit", "2", "--mode", "eml", "--subscribers", str(listed))
    assert drafts.exit_code == 0, drafts.stderr
    assert ("1 subscriber(s) got no eml draft: an SMTP message to them may have arrived (its "
            "reply was lost)") in drafts.stdout
    outbox = sample_project.out / ISSUE_DIR / "outbox"
    assert not outbox.exists() or not list(outbox.glob("*.eml"))
    assert states(sample_project)["reader002@example.org"] == "sending"
    forced = sample_project.run("emit", "2", "--mode", "eml", "--subscribers", str(listed),
                                "--force")
    assert forced.exit_code == 0, forced.stderr
    to = [header(path.read_bytes(), "To") for path in outbox.glob("*.eml")]
    assert any("reader002@example.org" in value for value in to)
    assert "got no eml draft" not in forced.stdout
