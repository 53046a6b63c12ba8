"""`emit --mode smtp` through a real Postfix: STARTTLS + AUTH and implicit TLS, each
subscriber one message, byte for byte what the draft engine builds, but for X-Unsent."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from helpers import mailparser_many
from postfix_server import PostfixServer, postfix_fixture, postfix_server_fixture
from smtp_emit import built_for, header, readers, states, use_server, write_list
from test_discreet_emit import assert_discreet_message, assert_usual_message

__all__ = ["postfix_fixture", "postfix_server_fixture"]

PREPENDED = (b"Return-Path:", b"X-Original-To:", b"Delivered-To:", b"Received:")


def without_prepended(stored: bytes) -> bytes:
    """The message as we sent it: Postfix's four headers off the top, CRLF line ends."""
    lines = stored.split(b"\n")
    names = []
    while lines and (lines[0].startswith(PREPENDED) or lines[0][:1] in (b" ", b"\t")):
        if lines[0][:1] not in (b" ", b"\t"):
            names.append(lines[0].split(b":")[0] + b":")
        lines.pop(0)
    assert tuple(names) == PREPENDED
    return b"\r\n".join(lines)


@pytest.fixture
def env(postfix: PostfixServer, monkeypatch):
    for key, value in postfix.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEWSLETTER_SMTP_RETRY_WAIT", "0.01")
    return postfix


def send(project, addresses, tmp_path, *args):
    listed = write_list(tmp_path / "list.csv", addresses)
    return project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed), *args)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_each_subscriber_gets_one_message_exactly_as_built(sample_project, env, tmp_path,
                                                           security):
    port = env.port if security == "starttls" else env.tls_port
    use_server(sample_project, "localhost", port, security, username=env.user)
    addresses = readers(4) + ["zoe@example.net"]
    result = send(sample_project, addresses, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "Sent: 5 message(s)" in result.stdout
    assert env.wait_delivered(5) == {a: 1 for a in addresses}
    for n, address in enumerate(addresses):
        [stored] = env.messages_for(address)
        sent = without_prepended(stored)
        assert sent == built_for(sample_project, address, f"Reader {n}", sent)
        assert header(sent, "X-Unsent") is None and header(sent, "Bcc") is None
        message = BytesParser(policy=policy.default).parsebytes(sent)
        assert message["To"].addresses[0].addr_spec == address
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith("mailto:team@mindshape.io?") and link.endswith(address)
        text, html = (part.get_content() for part in message.iter_parts())
        assert f"<{link}>" in text and f'href="{link.replace("&", "&amp;")}"' in html
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain",
                                                                        "text/html"]
    assert set(states(sample_project).values()) == {"sent"}


def test_without_the_password_in_the_environment_nothing_is_sent(sample_project, env,
                                                                 tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SMTP_PASSWORD")
    use_server(sample_project, "localhost", env.port, "starttls", username=env.user)
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1
    assert result.errors == [f"Error: smtp.username is set ({env.user}) but "
                             "NEWSLETTER_SMTP_PASSWORD is not (hint: export "
                             "NEWSLETTER_SMTP_PASSWORD with the account's (app) password: it "
                             "is read only from the environment, never from a file)"]
    assert not sample_project.out.exists()
    assert env.delivered() == {}


def test_a_wrong_password_is_one_error_line(sample_project, env, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "wrong")
    use_server(sample_project, "localhost", env.port, "starttls", username=env.user)
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1 and len(result.errors) == 1
    assert result.errors[0].startswith(f"Error: localhost:{env.port} refused the login of "
                                       f"{env.user}: 535 ")
    assert "sent" not in set(states(sample_project).values())
    assert env.delivered() == {}


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_not_from_a_trusted_ca_is_refused(sample_project, env, tmp_path,
                                                        monkeypatch, security):
    monkeypatch.delenv("SSL_CERT_FILE")  # the system store: it does not know the test CA
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    port = env.port if security == "starttls" else env.tls_port
    use_server(sample_project, "localhost", port, security, username=env.user)
    result = send(sample_project, readers(2), tmp_path)
    assert result.exit_code == 1 and len(result.errors) == 1
    assert result.errors[0].startswith(f"Error: the certificate of localhost:{port} is not "
                                       "trusted: unable to get local issuer certificate")
    assert "SSL_CERT_FILE" in result.errors[0]
    assert env.delivered() == {}


def test_a_discreet_subscriber_receives_the_discreet_version_through_postfix(
        sample_project, env, tmp_path):
    # What reaches the mailbox, not what we handed over: Postfix keeps the neutral From name,
    # Subject, List-Id and first lines of a discreet subscriber's message, and the usual one's.
    use_server(sample_project, "localhost", env.port, "starttls", username=env.user)
    listed = tmp_path / "list.csv"
    listed.write_text("email,name,discreet\nkim@example.org,Kim,yes\nsam@example.org,Sam,no\n",
                      encoding="utf-8")
    result = sample_project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    assert env.wait_delivered(2) == {"kim@example.org": 1, "sam@example.org": 1}
    paths = []
    for address in ("kim@example.org", "sam@example.org"):
        [stored] = env.messages_for(address)
        paths.append(tmp_path / f"{address}.eml")
        paths[-1].write_bytes(without_prepended(stored))
    kim, sam = (BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in paths)
    theirs_kim, theirs_sam = mailparser_many(paths)
    assert_discreet_message(kim, theirs_kim)
    assert_usual_message(sam, theirs_sam)
