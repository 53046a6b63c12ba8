"""Reading the signup mailbox over IMAP, against a real Dovecot: what an import would notice."""

from __future__ import annotations

import imaplib
import os
import socket
import ssl
import threading
import traceback

import pytest
from imap_server import OTHER_PASSWORD, OTHER_USER, ImapServer, imap_server_fixture  # noqa: F401

from newsletter.errors import NewsletterError
from newsletter.subscribers.imap import (
    BATCH,
    FetchedMessage,
    ImapError,
    ImapSource,
    fetch_new,
    parse_imap_url,
)

IPHONE = (
    b"From: Ana Lima <ana.lima@icloud.com>\r\n"
    b"To: team@mindshape.io\r\n"
    b"Subject: Subscribe\r\n"
    b"Date: Tue, 3 Nov 2026 08:12:40 +0100\r\n"
    b"Message-ID: <6C1F4A2E-0B7D-4C55-9E0B-2F1A8D3C9B10@icloud.com>\r\n"
    b"MIME-Version: 1.0 (1.0)\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n"
    b"Please add me to the Mindshape newsletter.\r\n"
    b"\r\n"
    b"Sent from my iPhone\r\n"
)
THUNDERBIRD = (  # an encoded display name and an 8bit UTF-8 body: the bytes must not be touched
    b"Message-ID: <b7d3c0e2-5a91-4f0c-8e7e-1d2c3b4a5f60@posteo.de>\r\n"
    b"Date: Wed, 4 Nov 2026 21:03:11 +0100\r\n"
    b"MIME-Version: 1.0\r\n"
    b"User-Agent: Mozilla Thunderbird\r\n"
    b"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@posteo.de>\r\n"
    b"To: team@mindshape.io\r\n"
    b"Subject: Subscribe\r\n"
    b"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Bitte nehmt mich auf \xe2\x80\x93 danke! J\xc3\xbcrgen\r\n"
)
OUTLOOK = (
    b"From: \"Okafor, Chidi\" <c.okafor@outlook.com>\r\n"
    b"To: \"team@mindshape.io\" <team@mindshape.io>\r\n"
    b"Subject: Unsubscribe\r\n"
    b"Date: Thu, 5 Nov 2026 12:45:02 +0000\r\n"
    b"Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>\r\n"
    b"Content-Type: text/html; charset=\"iso-8859-1\"\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"MIME-Version: 1.0\r\n"
    b"\r\n"
    b"<html><body><div>Please unsubscribe me.</div><div>Chidi</div></body></html>\r\n"
)


def numbered(n: int) -> bytes:
    return (f"From: reader{n}@example.org\r\nTo: team@mindshape.io\r\nSubject: Subscribe\r\n"
            f"Message-ID: <{n}@example.org>\r\n\r\nmessage {n}\r\n").encode()


@pytest.fixture
def folder(imap_server: ImapServer) -> str:
    """A fresh folder (with a space in its name) for each test, on the module's server."""
    return imap_server.create_folder()


def source(server: ImapServer, folder: str, *, user: str | None = None) -> ImapSource:
    return parse_imap_url(server.url(folder, user=user))


def fetch(server: ImapServer, folder: str, *, uidvalidity: int | None = None, last_uid: int = 0,
          password: str | None = None, user: str | None = None
          ) -> tuple[int, list[FetchedMessage]]:
    validity, messages = fetch_new(source(server, folder, user=user),
                                   password or server.password, uidvalidity=uidvalidity,
                                   last_uid=last_uid, ssl_context=server.ssl_context())
    return validity, list(messages)


def error_of(call, *args, **kwargs) -> ImapError:
    with pytest.raises(ImapError) as caught:
        call(*args, **kwargs)
    return caught.value


# The imports an editor runs: first everything, then only what is new.

def test_first_import_fetches_every_message_byte_for_byte(imap_server, folder):
    imap_server.append(folder, IPHONE, THUNDERBIRD, OUTLOOK)
    validity, messages = fetch(imap_server, folder)
    assert validity == imap_server.uidvalidity(folder)
    assert [m.data for m in messages] == [IPHONE, THUNDERBIRD, OUTLOOK]
    uids = [m.uid for m in messages]
    assert uids == sorted(uids) and len(set(uids)) == 3


def test_next_import_fetches_only_what_arrived_since(imap_server, folder):
    imap_server.append(folder, IPHONE, THUNDERBIRD)
    validity, first = fetch(imap_server, folder)
    imap_server.append(folder, OUTLOOK, numbered(1))

    again, second = fetch(imap_server, folder, uidvalidity=validity, last_uid=first[-1].uid)
    assert again == validity
    assert [m.data for m in second] == [OUTLOOK, numbered(1)]
    assert min(m.uid for m in second) > first[-1].uid

    _, third = fetch(imap_server, folder, uidvalidity=validity, last_uid=second[-1].uid)
    assert third == []


def test_renumbered_folder_is_fetched_again_in_full(imap_server, folder):
    imap_server.append(folder, IPHONE, THUNDERBIRD)
    validity, first = fetch(imap_server, folder)
    imap_server.renumber(folder)

    new_validity, again = fetch(imap_server, folder, uidvalidity=validity,
                                last_uid=first[-1].uid)
    assert new_validity != validity
    assert [m.data for m in again] == [IPHONE, THUNDERBIRD]


def test_an_empty_folder_gives_its_uidvalidity_and_no_messages(imap_server, folder):
    assert fetch(imap_server, folder) == (imap_server.uidvalidity(folder), [])


def test_the_folder_is_only_examined_nothing_is_marked_seen(imap_server, folder):
    imap_server.append(folder, IPHONE, OUTLOOK)
    before = imap_server.flags(folder)
    assert all("\\Seen" not in flags for flags in before.values())
    fetch(imap_server, folder)
    after = imap_server.flags(folder)
    assert after.keys() == before.keys()
    assert all("\\Seen" not in flags for flags in after.values()), after


def test_250_and_more_messages_arrive_complete_in_uid_order_a_batch_at_a_time(
        imap_server, folder, monkeypatch):
    sent = [numbered(n) for n in range(BATCH * 2 + 60)]
    imap_server.append(folder, *sent)
    body_fetches = []
    original = imaplib.IMAP4.uid

    def counting_uid(self, command, *args):
        if command == "FETCH" and "BODY.PEEK[]" in args[-1]:
            body_fetches.append(args[0].count(",") + 1)
        return original(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", counting_uid)
    _, messages = fetch_new(source(imap_server, folder), imap_server.password, uidvalidity=None,
                            last_uid=0, ssl_context=imap_server.ssl_context())
    first = next(messages)
    assert body_fetches == [BATCH]  # streamed: only the first batch has been read so far
    received = [first, *messages]
    assert [m.data for m in received] == sent
    assert [m.uid for m in received] == sorted(m.uid for m in received)
    assert body_fetches == [BATCH, BATCH, 60]


def test_the_session_is_logged_out_however_the_caller_stops(imap_server, folder, monkeypatch):
    imap_server.append(folder, IPHONE, THUNDERBIRD)
    logouts = []
    original = imaplib.IMAP4.logout
    monkeypatch.setattr(imaplib.IMAP4, "logout", lambda self: logouts.append(1) or original(self))

    _, messages = fetch_new(source(imap_server, folder), imap_server.password,
                            uidvalidity=None, last_uid=0, ssl_context=imap_server.ssl_context())
    list(messages)
    assert len(logouts) == 1  # exhausted

    _, messages = fetch_new(source(imap_server, folder), imap_server.password,
                            uidvalidity=None, last_uid=0, ssl_context=imap_server.ssl_context())
    next(messages)
    messages.close()
    assert len(logouts) == 2  # closed early

    error_of(fetch, imap_server, "No such folder")
    assert len(logouts) == 3  # failed before returning


def test_a_folder_with_spaces_and_accents_is_found(imap_server):
    imap_server.create_folder("Abonn&AOk-s &- Co")  # "Abonnés & Co" in IMAP's modified UTF-7
    imap_server.append("Abonn&AOk-s &- Co", IPHONE)
    url = f"imaps://team%40mindshape.io@127.0.0.1:{imap_server.port}/Abonn%C3%A9s%20%26%20Co"
    _, messages = fetch_new(parse_imap_url(url), imap_server.password, uidvalidity=None,
                            last_uid=0, ssl_context=imap_server.ssl_context())
    assert [m.data for m in messages] == [IPHONE]
    # Listed by the name the editor knows, not the encoded one.
    assert "'Abonnés & Co'" in error_of(fetch, imap_server, "Abonnes").message


def test_a_password_that_is_not_ascii_logs_in(imap_server, folder):
    imap_server.append(folder, IPHONE)
    _, messages = fetch(imap_server, folder, user=OTHER_USER, password=OTHER_PASSWORD)
    assert [m.data for m in messages] == [IPHONE]


def test_a_line_break_in_the_password_is_not_sent_as_a_command(imap_server, folder):
    # As when the variable is set from a file that ends in a newline: refused, nothing injected.
    error = error_of(fetch, imap_server, folder, password=imap_server.password + "\r\nA1 NOOP")
    assert error.message.startswith("the server refused the login for team@mindshape.io")


# What goes wrong, and what the editor is told.

def assert_password_not_shown(error: NewsletterError, password: str) -> None:
    shown = "\n".join([*error.lines(), repr(error), *traceback.format_exception(error)])
    assert password not in shown


@pytest.mark.parametrize("user", [None, OTHER_USER])
def test_a_wrong_password_is_refused_without_showing_it(imap_server, folder, user):
    wrong = 'wr0ng "password" \\ é'
    error = error_of(fetch, imap_server, folder, password=wrong, user=user)
    assert error.message.startswith(
        f"the server refused the login for {user or imap_server.user} at 127.0.0.1")
    assert "NEWSLETTER_IMAP_PASSWORD" in error.hint
    assert_password_not_shown(error, wrong)


def test_an_untrusted_certificate_is_refused(imap_server, folder, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    error = error_of(fetch_new, source(imap_server, folder), imap_server.password,
                     uidvalidity=None, last_uid=0)
    assert error.message.startswith(
        f"the certificate of 127.0.0.1:{imap_server.port} is not trusted (")
    assert "SSL_CERT_FILE" in error.hint
    assert_password_not_shown(error, imap_server.password)


def test_ssl_cert_file_makes_a_private_authority_trusted(imap_server, folder, monkeypatch):
    imap_server.append(folder, IPHONE)
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_server.ca_path))
    by_name = ImapSource(imap_server.user, "localhost", imap_server.port, folder)
    _, messages = fetch_new(by_name, imap_server.password, uidvalidity=None, last_uid=0)
    assert [m.data for m in messages] == [IPHONE]


def test_the_certificate_must_name_the_host(imap_server, folder):
    # "127.1" reaches 127.0.0.1, but the certificate names only localhost and 127.0.0.1.
    error = error_of(fetch_new, ImapSource(imap_server.user, "127.1", imap_server.port, folder),
                     imap_server.password, uidvalidity=None, last_uid=0,
                     ssl_context=imap_server.ssl_context())
    assert error.message == (f"the certificate of 127.1:{imap_server.port} is not trusted "
                             "(Hostname mismatch, certificate is not valid for '127.1')")


def test_a_lost_connection_mid_import_says_so(imap_server, folder):
    imap_server.append(folder, *(numbered(n) for n in range(BATCH + 1)))
    _, messages = fetch_new(source(imap_server, folder), imap_server.password,
                            uidvalidity=None, last_uid=0, ssl_context=imap_server.ssl_context())
    for _ in range(BATCH):
        next(messages)
    messages.gi_frame.f_locals["imap"].sock.shutdown(socket.SHUT_RDWR)  # as if the line dropped
    error = error_of(next, messages)
    assert error.message.startswith(f"the connection to 127.0.0.1:{imap_server.port} was lost "
                                    f"while reading {folder!r} (")
    assert "run the import again" in error.hint


def test_a_missing_folder_is_named_with_the_folders_there_are(imap_server, folder):
    error = error_of(fetch, imap_server, "Signups/2026")
    assert error.message.startswith("there is no folder 'Signups/2026' on 127.0.0.1 (it has: ")
    assert "'INBOX'" in error.message and repr(folder) in error.message
    assert error.message.index("'INBOX'") < error.message.index(repr(folder))
    assert "%20" in error.hint


def test_a_closed_port_cannot_be_reached():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    error = error_of(fetch_new, ImapSource("team@mindshape.io", "127.0.0.1", port, "INBOX"),
                     "secret", uidvalidity=None, last_uid=0)
    assert error.message == f"cannot reach 127.0.0.1:{port} (connection refused)"
    assert "host and port" in error.hint


def test_an_unknown_host_cannot_be_reached():
    error = error_of(fetch_new, ImapSource("team", "imap.mindshape.invalid", 993, "INBOX"),
                     "secret", uidvalidity=None, last_uid=0)
    assert error.message == "cannot reach imap.mindshape.invalid:993 (no such host)"


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; nobody ever speaks TLS
        port = silent.getsockname()[1]
        error = error_of(fetch_new, ImapSource("team", "127.0.0.1", port, "INBOX"), "secret",
                         uidvalidity=None, last_uid=0, timeout=0.3)
    assert error.message == f"cannot reach 127.0.0.1:{port} (no answer within 0.3 s)"


def test_a_plain_imap_port_is_told_apart_from_a_tls_one():
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        port = plain.getsockname()[1]

        def greet() -> None:
            connection, _ = plain.accept()
            with connection:
                connection.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
                connection.recv(4096)

        greeter = threading.Thread(target=greet, daemon=True)
        greeter.start()
        error = error_of(fetch_new, ImapSource("team", "127.0.0.1", port, "INBOX"), "secret",
                         uidvalidity=None, last_uid=0, ssl_context=ssl.create_default_context(),
                         timeout=5)
        greeter.join(5)
    assert error.message.startswith(f"cannot talk TLS with 127.0.0.1:{port} (")
    assert "993" in error.hint


# Addresses as the editor types them.

@pytest.mark.parametrize(("url", "expected"), [
    ("imaps://team%40mindshape.io@imap.example.com/INBOX",
     ImapSource("team@mindshape.io", "imap.example.com", 993, "INBOX")),
    ("imaps://team@imap.example.com:1993/INBOX%2FSignups",
     ImapSource("team", "imap.example.com", 1993, "INBOX/Signups")),
    ("imaps://team@imap.example.com/INBOX/Signups",
     ImapSource("team", "imap.example.com", 993, "INBOX/Signups")),
    ("imaps://team@Imap.Example.com/Signup%20requests",
     ImapSource("team", "imap.example.com", 993, "Signup requests")),
    ("IMAPS://team@[::1]:9993/Abonn%C3%A9s", ImapSource("team", "::1", 9993, "Abonnés")),
    ("  imaps://team@mindshape.io@imap.example.com/INBOX\n",
     ImapSource("team@mindshape.io", "imap.example.com", 993, "INBOX")),
])
def test_imaps_addresses_are_understood(url, expected):
    assert parse_imap_url(url) == expected
    assert parse_imap_url(expected.label()) == expected


def test_the_label_is_one_canonical_address():
    source = parse_imap_url("imaps://team%40mindshape.io@IMAP.example.com/INBOX/Sign%20ups")
    assert source.label() == "imaps://team%40mindshape.io@imap.example.com:993/INBOX/Sign%20ups"
    assert parse_imap_url("imaps://team%40mindshape.io@imap.example.com:993/INBOX%2FSign ups"
                          ).label() == source.label()


@pytest.mark.parametrize(("url", "says"), [
    ("imap://team@imap.example.com/INBOX", "without TLS"),
    ("imaps://imap.example.com/INBOX", "names no user"),
    ("imaps://@imap.example.com/INBOX", "names no user"),
    ("imaps://team@imap.example.com/", "names no folder"),
    ("imaps://team@imap.example.com", "names no folder"),
    ("imaps://team@/INBOX", "names no host"),
    ("imaps://team@imap.example.com:99999/INBOX", "is not an IMAP address"),
    ("imaps://team@imap.example.com:port/INBOX", "is not an IMAP address"),
    ("imaps://team@imap.example.com/INBOX?x=1", "?query"),
    ("https://imap.example.com/INBOX", "is not an imaps:// address"),
    ("signups.mbox", "is not an imaps:// address"),
    ("imaps://team@imap.example.com/INBOX%0D%0ALOGOUT", "line break or control character"),
])
def test_other_addresses_are_refused_with_the_reason(url, says):
    error = error_of(parse_imap_url, url)
    assert says in error.message
    assert error.hint


def test_a_password_in_the_address_is_refused_and_not_repeated():
    error = error_of(parse_imap_url, "imaps://team:hunter2@imap.example.com/INBOX")
    assert "has a password in it" in error.message
    assert "NEWSLETTER_IMAP_PASSWORD" in error.hint
    assert_password_not_shown(error, "hunter2")


@pytest.mark.parametrize("password", ["S3cr/et", "pa#ss", "pa?ss", "p@ss", "a:b/c@d", "9999"])
def test_a_password_with_url_characters_is_never_repeated(password):
    url = f"imaps://team:{password}@imap.example.com/INBOX"
    error = error_of(parse_imap_url, url)
    assert error.message == "'imaps://***@imap.example.com/INBOX' has a password in it"
    assert password not in error.hint


@pytest.mark.skipif("FAKETIME" in os.environ,
                    reason="Dovecot keeps the real clock while this run's clock is moved")
def test_each_message_comes_with_the_servers_arrival_time(imap_server, folder):
    import datetime as dt

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    imap_server.append(folder, IPHONE, numbered(1))
    _, messages = fetch(imap_server, folder)
    after = dt.datetime.now(dt.UTC)
    assert [m.data for m in messages] == [IPHONE, numbered(1)]
    assert all(before - dt.timedelta(seconds=1) <= m.arrived <= after for m in messages)
