"""The SMTP tests' own servers work: a real Postfix and the fault server, driven by smtplib."""

from __future__ import annotations

import base64
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest
from postfix_server import PostfixServer, pause, postfix_fixture, postfix_server_fixture
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "postfix_fixture",
           "postfix_server_fixture", "smtp_test_ca_fixture"]


def _message(to: str = "reader@example.com", subject: str = "Issue 7") -> bytes:
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = "Mindshape <team@mindshape.io>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<issue-7.reader@mindshape.io>"
    message["List-Unsubscribe"] = "<mailto:team@mindshape.io?subject=unsubscribe>"
    # A line that starts with a dot (SMTP stuffs it) and one of trailing spaces.
    message.set_content("Hello,\n.starts with a dot\ntrailing   \n\n-- \nMindshape\n")
    message.add_alternative("<p>Hello, <b>reader</b></p>\n", subtype="html")
    return message.as_bytes()


def _split_prepended(stored: bytes) -> tuple[list[bytes], bytes]:
    """(names of the header fields before our From:, the rest) of a stored message."""
    head, rest = stored.split(b"From: Mindshape", 1)
    names = [line.split(b":", 1)[0] for line in head.splitlines() if line[:1] not in b" \t"]
    return names, b"From: Mindshape" + rest


# --- Postfix ---------------------------------------------------------------------------------

def test_postfix_delivers_each_recipient_the_bytes_sent_below_four_headers(
        postfix: PostfixServer) -> None:
    sent = _message()
    started = time.monotonic()
    with postfix.connect() as smtp:
        refused = smtp.sendmail("team@mindshape.io", ["reader@example.com", "Editor@Example.ORG"],
                                sent)
    assert refused == {}
    assert postfix.wait_delivered(2) == {"editor@example.org": 1, "reader@example.com": 1}
    assert time.monotonic() - started < 3
    # X-Original-To and Delivered-To both carry the address as the client gave it, case and all.
    for address, given in (("reader@example.com", b"reader@example.com"),
                           ("editor@example.org", b"Editor@Example.ORG")):
        [stored] = postfix.messages_for(address)
        names, rest = _split_prepended(stored)
        assert names == [b"Return-Path", b"X-Original-To", b"Delivered-To", b"Received"]
        assert stored.startswith(b"Return-Path: <team@mindshape.io>\n"
                                 b"X-Original-To: " + given + b"\n"
                                 b"Delivered-To: " + given + b"\n"
                                 b"Received: from ")
        # Every other byte as sent, but the Maildir file has LF where SMTP carried CRLF.
        assert rest == sent.replace(b"\r\n", b"\n")
        assert b"\r" not in stored


def test_postfix_implicit_tls_port_authenticates_and_delivers(postfix: PostfixServer) -> None:
    with smtplib.SMTP_SSL(postfix.host, postfix.tls_port, context=postfix.ssl_context(),
                          timeout=10) as smtp:
        smtp.login(postfix.user, postfix.password)
        smtp.sendmail("team@mindshape.io", ["reader@mindshape.io"], _message())
    assert len(postfix.messages_for("reader@mindshape.io")) == 1


def test_postfix_offers_no_auth_before_starttls_and_relays_nothing_unauthenticated(
        postfix_server: PostfixServer) -> None:
    with smtplib.SMTP(postfix_server.host, postfix_server.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            smtp.login(postfix_server.user, postfix_server.password)
        token = base64.b64encode(f"\0{postfix_server.user}\0{postfix_server.password}".encode())
        code, reply = smtp.docmd("AUTH", "PLAIN " + token.decode())
        assert (code, reply) == (503, b"5.5.1 Error: authentication not enabled")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("team@mindshape.io", ["reader@example.com"], _message())
        assert refused.value.recipients["reader@example.com"][0] == 554
    with postfix_server.connect() as smtp:  # authenticated, after TLS, the same is accepted
        smtp.sendmail("team@mindshape.io", ["reader@example.com"], _message())


def test_postfix_refuses_a_wrong_password(postfix_server: PostfixServer) -> None:
    with smtplib.SMTP(postfix_server.host, postfix_server.port, timeout=10) as smtp:
        smtp.starttls(context=postfix_server.ssl_context())
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.login(postfix_server.user, "wrong")
    assert refused.value.smtp_code == 535


def test_postfix_certificate_verifies_only_against_the_test_ca(
        postfix_server: PostfixServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with smtplib.SMTP(postfix_server.host, postfix_server.port, timeout=10) as smtp, \
            pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        smtp.starttls(context=ssl.create_default_context())
    # The way a private CA reaches the code under test: SSL_CERT_FILE, read by the default context.
    monkeypatch.setenv("SSL_CERT_FILE", str(postfix_server.ca_path))
    with smtplib.SMTP("localhost", postfix_server.port, timeout=10) as smtp:
        smtp.starttls(context=ssl.create_default_context())
        smtp.login(postfix_server.user, postfix_server.password)


# --- the fault server ------------------------------------------------------------------------

def _connect(server) -> smtplib.SMTP:
    return smtplib.SMTP(server.host, server.port, timeout=10)


def test_fault_server_accepts_and_records_the_exact_data(fault_server) -> None:
    sent = _message()
    with _connect(fault_server) as smtp:
        smtp.sendmail("team@mindshape.io", ["a@example.com", "b@example.com"], sent)
    [got] = fault_server.accepted
    assert (got.mail_from, got.rcpt_tos, got.data, got.session, got.number) == (
        "team@mindshape.io", ("a@example.com", "b@example.com"), sent, 1, 1)
    assert got.reply == "250 2.0.0 OK queued as F00001"


def test_fault_server_421_at_connect(fault_server) -> None:
    fault_server.plan = FaultPlan(greeting="421 4.3.2 Service not available")
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        _connect(fault_server)
    assert refused.value.smtp_code == 421
    assert fault_server.transactions == []


def test_fault_server_451_and_454_for_the_nth_data(fault_server) -> None:
    fault_server.plan = FaultPlan(data_replies={2: "451 4.3.0 Try again later",
                                                3: "454 4.7.0 Throttling failure"})
    outcomes = []
    with _connect(fault_server) as smtp:
        for n in range(1, 5):
            try:
                smtp.sendmail("team@mindshape.io", [f"r{n}@example.com"], _message())
                outcomes.append(250)
            except smtplib.SMTPDataError as error:
                outcomes.append(error.smtp_code)
    assert outcomes == [250, 451, 454, 250]
    assert fault_server.delivered() == {"r1@example.com": 1, "r4@example.com": 1}
    assert [t.rcpt_tos for t in fault_server.refused] == [("r2@example.com",),
                                                          ("r3@example.com",)]


def test_fault_server_550_for_one_recipient_and_452_for_the_nth_rcpt(fault_server) -> None:
    fault_server.plan = FaultPlan(
        rcpt_replies={"gone@example.com": "550 5.1.1 No such user"},
        nth_rcpt_replies={3: "452 4.5.3 Too many recipients"})
    with _connect(fault_server) as smtp:
        refused = smtp.sendmail("team@mindshape.io",
                                ["a@example.com", "gone@example.com", "c@example.com"],
                                _message())
    assert refused == {"gone@example.com": (550, b"5.1.1 No such user"),
                       "c@example.com": (452, b"4.5.3 Too many recipients")}
    assert fault_server.delivered() == {"a@example.com": 1}


def test_fault_server_drops_the_connection_after_the_dot(fault_server) -> None:
    fault_server.plan = FaultPlan(drop_after_dot={2})
    smtp = _connect(fault_server)
    smtp.sendmail("team@mindshape.io", ["a@example.com"], _message())
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.sendmail("team@mindshape.io", ["b@example.com"], _message())
    smtp.close()
    [lost] = fault_server.unacknowledged
    assert (lost.rcpt_tos, lost.number, lost.reply, lost.acknowledged) == (
        ("b@example.com",), 2, None, False)
    assert fault_server.delivered() == {"a@example.com": 1}
    with _connect(fault_server) as smtp:  # the server goes on serving new sessions
        smtp.sendmail("team@mindshape.io", ["c@example.com"], _message())
    assert fault_server.accepted[-1].session == 2


def test_fault_server_slow_reply_to_the_dot(fault_server) -> None:
    fault_server.plan = FaultPlan(data_delays={1: 0.5})
    with _connect(fault_server) as smtp:
        started = time.monotonic()
        smtp.sendmail("team@mindshape.io", ["a@example.com"], _message())
        assert 0.5 <= time.monotonic() - started < 2
        with pytest.raises(smtplib.SMTPServerDisconnected):  # a client that gives up sooner
            smtp.timeout = 0.2
            smtp.sock.settimeout(0.2)
            fault_server.plan.data_delays[2] = 1.0
            smtp.sendmail("team@mindshape.io", ["b@example.com"], _message())
    pause(0.1)  # time.sleep fails in the moved-clock run
    # The server kept it though the client never heard: a duplicate if the client resends.
    assert fault_server.delivered() == {"a@example.com": 1, "b@example.com": 1}
    [unheard] = fault_server.unacknowledged
    assert (unheard.rcpt_tos, unheard.reply) == (("b@example.com",),
                                                 "250 2.0.0 OK queued as F00002")


def test_fault_server_cuts_the_session_after_n_messages(fault_server) -> None:
    fault_server.plan = FaultPlan(messages_per_session=2)
    smtp = _connect(fault_server)
    for n in (1, 2):
        smtp.sendmail("team@mindshape.io", [f"r{n}@example.com"], _message())
    with pytest.raises(smtplib.SMTPSenderRefused) as cut:
        smtp.sendmail("team@mindshape.io", ["r3@example.com"], _message())
    assert cut.value.smtp_code == 421
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp.noop()
    with _connect(fault_server) as smtp:
        smtp.sendmail("team@mindshape.io", ["r3@example.com"], _message())
    assert [(t.session, t.rcpt_tos) for t in fault_server.accepted] == [
        (1, ("r1@example.com",)), (1, ("r2@example.com",)), (2, ("r3@example.com",))]


def test_fault_server_starttls_and_auth(make_fault_server, monkeypatch) -> None:
    server = make_fault_server(tls="starttls", auth=True)
    with _connect(server) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("team@mindshape.io", ["a@example.com"], _message())
        assert refused.value.smtp_code == 530
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    smtp = _connect(server)
    with pytest.raises(ssl.SSLCertVerificationError):
        smtp.starttls(context=ssl.create_default_context())
    smtp.close()
    with _connect(server) as smtp:
        smtp.starttls(context=server.ssl_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(server.user, "wrong")
        smtp.login(server.user, server.password)
        smtp.sendmail("team@mindshape.io", ["a@example.com"], _message())
    assert server.delivered() == {"a@example.com": 1}
    implicit = make_fault_server(tls="implicit", auth=True)
    with smtplib.SMTP_SSL(implicit.host, implicit.port, context=implicit.ssl_context(),
                          timeout=10) as smtp:
        smtp.login(implicit.user, implicit.password)
        smtp.sendmail("team@mindshape.io", ["b@example.com"], _message())
    assert implicit.delivered() == {"b@example.com": 1}
