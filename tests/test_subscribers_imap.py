"""`subscribers import imaps://...` against a real Dovecot server started by the tests."""

from __future__ import annotations

import pytest
import signup_mail as mail
from imap_server import imap_server_fixture  # noqa: F401 - the fixture, used by name
from test_subscribers import statuses


@pytest.fixture
def mailbox_env(imap_server, monkeypatch):
    for name, value in imap_server.env().items():
        monkeypatch.setenv(name, value)
    return imap_server


def test_import_reads_the_mailbox_then_only_what_is_new(project, mailbox_env):
    folder = "Signups-first"
    mailbox_env.create_folder(folder)
    mailbox_env.append(folder, mail.iphone_plain(), mail.outlook_html_only("sam@example.com"))
    url = mailbox_env.url(folder)
    first = project.run("subscribers", "import", url)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[:2] == [
        f"Read 2 message(s) from {url}.", "1 new, 0 unsubscribed, 0 bouncing, 0 not understood."]
    again = project.run("subscribers", "import", url)
    assert again.stdout.splitlines()[0] == f"Read 0 message(s) from {url}."
    mailbox_env.append(folder, mail.iphone_plain("new@example.com", "New", day=20))
    third = project.run("subscribers", "import", url)
    assert third.stdout.splitlines()[:2] == [
        f"Read 1 message(s) from {url}.", "1 new, 0 unsubscribed, 0 bouncing, 0 not understood."]
    assert statuses(project) == {"ann@example.com": "subscribed",
                                 "sam@example.com": "unsubscribed",
                                 "new@example.com": "subscribed"}
    flags = mailbox_env.flags(folder)
    assert len(flags) == 3 and all("\\Seen" not in f for f in flags.values())  # read-only


def test_a_renumbered_mailbox_is_read_again_without_changing_anything(project, mailbox_env):
    folder = "Signups-renumbered"
    mailbox_env.create_folder(folder)
    mailbox_env.append(folder, mail.iphone_plain())
    url = mailbox_env.url(folder)
    assert project.run("subscribers", "import", url).exit_code == 0
    mailbox_env.renumber(folder)
    again = project.run("subscribers", "import", url)
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == f"Read 0 message(s) from {url} (1 read before)."
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_without_the_password_variable_the_error_says_where_it_comes_from(project, imap_server,
                                                                         monkeypatch):
    monkeypatch.delenv("NEWSLETTER_IMAP_PASSWORD", raising=False)
    result = project.run("subscribers", "import", imap_server.url("INBOX"))
    assert result.exit_code == 1
    assert "NEWSLETTER_IMAP_PASSWORD" in result.errors[0]
    assert not (project.root / ".subscribers" / "subscribers.sqlite3").exists() or \
        statuses(project) == {}


def test_a_password_in_the_address_is_never_shown_by_the_command(project):
    result = project.run("subscribers", "import", "imaps://team:S3cr/et@imap.example.com/INBOX")
    assert result.exit_code == 1
    assert "S3cr" not in result.stdout + result.stderr
    assert "'imaps://***@imap.example.com/INBOX' has a password in it" in result.errors[0]


def test_an_undated_request_is_dated_by_the_servers_arrival_time(project, mailbox_env):
    folder = "Signups-undated"
    mailbox_env.create_folder(folder)
    undated = mail.iphone_plain(day=9, subject=mail.UNSUBSCRIBE, body="").replace(
        f"Date: {mail.when(9)}\r\n".encode(), b"")
    mailbox_env.append(folder, mail.iphone_plain(day=2), undated)
    result = project.run("subscribers", "import", mailbox_env.url(folder))
    assert result.exit_code == 0, result.stderr
    assert "no usable Date: dated by its arrival" in result.stdout
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
