"""`send.py welcome`: one welcome per subscriber in the store, in every mode, once, resumable."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

import pytest
import signup_mail
from conftest import REPO
from helpers import lf, mailparser_many, parse_eml, parts
from smtp_emit import use_server
from smtp_faults import fault_server_fixture, make_fault_server_fixture, smtp_test_ca_fixture

from newsletter.emit.welcome import awaiting
from newsletter.subscribers.store import open_store

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

SUBJECT = "Welcome to the Mindshape newsletter"
LATEST = "https://mindshape.io/newsletter/002-parts-that-help/"  # the sample's latest issue
ARCHIVE = "https://mindshape.io/newsletter/"


def subscribe(project, *addresses: str) -> None:
    with open_store(project.root) as store, store.transaction():
        for address in addresses:
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None)


def readers(n: int) -> list[str]:
    return [f"reader{i:04d}@example.org" for i in range(n)]


def folder(project):
    return project.out / "welcome"


def drafts(project):
    return sorted((folder(project) / "outbox").glob("*.eml"))


def welcomed(project) -> dict[str, str]:
    """address -> mode, from the welcome's ledger (done or sent)."""
    with sqlite3.connect(folder(project) / "ledger.sqlite3") as db:
        return dict(db.execute("SELECT address, mode FROM emitted "
                               "WHERE state IN ('done', 'sent')"))


def recipients(paths) -> list[str]:
    found = []
    for path in paths:
        message = parse_eml(path)
        found += [a.addr_spec for a in message["To"].addresses if a.addr_spec !=
                  "team@mindshape.io"]
        if message["Bcc"]:
            found += [a.addr_spec for a in message["Bcc"].addresses]
    return found


def assert_says_what_it_must(text: str) -> None:
    """What the welcome promises, in either part (text as a reader sees it)."""
    flat = " ".join(text.split())
    for words in ("long-form attachment content", "Research breakdowns", "framework deep-dives",
                  "honest take on a new test", "once every 2-4 weeks at most", ARCHIVE, LATEST,
                  "988", "116 123", "findahelpline.com", "Educational, not diagnostic.",
                  "Did not ask for this?", "nothing more will come", "unsubscribe"):
        assert words in flat, words


def test_eml_welcomes_each_subscriber_once_and_both_parsers_read_it(sample_project):
    subscribe(sample_project, "ann@example.com", "bo@example.org", "cy@example.net")
    result = sample_project.run("welcome")
    assert result.exit_code == 0, result.stderr
    assert "Welcomed 3 subscriber(s) (eml) in" in result.stdout
    files = drafts(sample_project)
    assert sorted(recipients(files)) == ["ann@example.com", "bo@example.org", "cy@example.net"]
    for path, theirs in zip(files, mailparser_many(files), strict=True):
        message = parse_eml(path)
        assert message.defects == [] and all(p.defects == [] for p in message.walk())
        text, html = parts(message)
        assert message["Subject"] == theirs["subject"] == SUBJECT
        assert lf(theirs["text"]).rstrip("\n") == text.rstrip("\n")
        assert lf(theirs["html"]).rstrip("\n") == html.rstrip("\n")
        address = message["To"].addresses[0].addr_spec
        own = urllib.parse.quote(address, safe="@")
        assert_says_what_it_must(text)
        assert f'href="{ARCHIVE}"' in html and f'href="{LATEST}"' in html
        for part in (text, html):
            assert "In crisis? You deserve help right now:" in part
            assert "Educational, not diagnostic." in part
            assert "mailto:team@mindshape.io?" in part and own in part  # their own link
        assert own in message["List-Unsubscribe"]
    assert welcomed(sample_project) == {a: "eml" for a in recipients(files)}


@pytest.mark.parametrize("mode", ["bcc", "mailto"])
def test_bcc_and_mailto_welcome_everyone_once(sample_project, mode):
    subscribe(sample_project, *readers(5))
    result = sample_project.run("welcome", "--mode", mode, "--batch-size", "2")
    assert result.exit_code == 0, result.stderr
    assert f"Welcomed 5 subscriber(s) ({mode})" in result.stdout
    assert welcomed(sample_project) == {a: mode for a in readers(5)}
    if mode == "bcc":
        assert sorted(recipients(drafts(sample_project))) == readers(5)
        text, _ = parts(parse_eml(drafts(sample_project)[0]))
        assert_says_what_it_must(text)
    else:
        links = (folder(sample_project) / "mailto.txt").read_text().splitlines()
        assert len(links) == 3
        body = urllib.parse.unquote(links[0].split("body=", 1)[1])
        assert SUBJECT in body and "988 (US/CA)" in body and "unsubscribe" in body
        assert "Educational, not diagnostic." in body and "Did not ask for this?" in body
    again = sample_project.run("welcome", "--mode", mode)
    assert "Welcomed 0 subscriber(s)" in again.stdout
    assert "5 subscriber(s) had the welcome already" in again.stdout


def test_never_twice_a_later_run_welcomes_only_new_subscribers(sample_project):
    subscribe(sample_project, "ann@example.com", "bo@example.org")
    assert sample_project.run("welcome").exit_code == 0
    with open_store(sample_project.root) as store:
        assert awaiting(store, sample_project.out) == 0
    # The editor improves the welcome between runs: that is no reason to refuse.
    template = sample_project.root / "templates" / "welcome.txt.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "Thank you for signing up.", "Thank you, truly, for signing up."), encoding="utf-8")
    path = signup_mail.write_mbox(sample_project.root / "signups.mbox",
                                  [signup_mail.iphone_plain("new@example.com", day=20)])
    assert sample_project.run("subscribers", "import", str(path)).exit_code == 0
    with open_store(sample_project.root) as store:
        assert awaiting(store, sample_project.out) == 1
    result = sample_project.run("welcome")
    assert result.exit_code == 0, result.stderr
    assert "Welcomed 1 subscriber(s)" in result.stdout
    assert "2 subscriber(s) had the welcome already" in result.stdout
    assert sorted(recipients(drafts(sample_project))) == [
        "ann@example.com", "bo@example.org", "new@example.com"]
    newest = [p for p in drafts(sample_project) if recipients([p]) == ["new@example.com"]]
    assert "Thank you, truly," in parts(parse_eml(newest[0]))[0]


def test_awaiting_counts_before_any_welcome_and_creates_nothing(sample_project):
    subscribe(sample_project, *readers(3))
    with open_store(sample_project.root) as store:
        assert awaiting(store, sample_project.out) == 3
    assert not sample_project.out.exists()


def test_force_welcomes_again_exactly_the_addresses_given(sample_project):
    subscribe(sample_project, "ann@example.com", "bo@example.org")
    assert sample_project.run("welcome").exit_code == 0
    result = sample_project.run("welcome", "--force", "ann@example.com")
    assert result.exit_code == 0, result.stderr
    assert "Welcomed 1 subscriber(s)" in result.stdout
    assert "--force: 1 earlier file(s) moved to replaced-" in result.stdout
    assert sorted(recipients(drafts(sample_project))) == ["ann@example.com", "bo@example.org"]
    replaced = list(folder(sample_project).glob("replaced-*/*.eml"))
    assert recipients(replaced) == ["ann@example.com"]


def test_an_address_not_subscribed_is_an_error_and_nothing_is_written(sample_project):
    subscribe(sample_project, "ann@example.com")
    result = sample_project.run("welcome", "nobody@example.com")
    assert result.exit_code == 1
    assert result.errors == ["Error: not subscribed in the store: nobody@example.com (hint: "
                             "check the address with `send.py subscribers show EMAIL`)"]
    assert not sample_project.out.exists()


def test_resend_uncertain_needs_smtp(sample_project):
    subscribe(sample_project, "ann@example.com")
    result = sample_project.run("welcome", "--resend-uncertain")
    assert result.exit_code == 1 and "only --mode smtp sends messages" in result.errors[0]


def test_a_killed_run_resumes_with_each_subscriber_welcomed_once(sample_project):
    everyone = readers(3000)
    subscribe(sample_project, *everyone)
    command = [sys.executable, str(REPO / "send.py"), "--project", str(sample_project.root),
               "welcome", "--batch-size", "7"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outbox = folder(sample_project) / "outbox"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if outbox.is_dir() and sum(1 for _ in outbox.glob("*.eml")) >= 1200:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before it was killed"
    assert 0 < len(drafts(sample_project)) < len(everyone)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(recipients(drafts(sample_project))) == everyone  # everyone, once
    assert "had the welcome already" in done.stdout
    assert not list(outbox.glob(".*.tmp"))


def test_smtp_welcomes_each_once_through_the_server(sample_project, fault_server,
                                                    monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMTP_RETRY_WAIT", "0.01")
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    subscribe(sample_project, *readers(4))
    result = sample_project.run("welcome", "--mode", "smtp")
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in readers(4)}
    for transaction in fault_server.accepted:
        assert f"Subject: {SUBJECT}".encode() in transaction.data
        assert b"X-Unsent" not in transaction.data
    assert welcomed(sample_project) == {a: "smtp" for a in readers(4)}
    subscribe(sample_project, "late@example.com")
    again = sample_project.run("welcome", "--mode", "smtp")
    assert again.exit_code == 0, again.stderr
    assert "4 subscriber(s) had the welcome already" in again.stdout
    assert fault_server.delivered() == {**{a: 1 for a in readers(4)}, "late@example.com": 1}


def test_check_welcome_passes_and_fails_without_the_crisis_lines(sample_project):
    result = sample_project.run("check", "welcome")
    assert result.exit_code == 0, result.stdout
    assert "the welcome: 0 error(s)" in result.stdout
    template = sample_project.root / "templates" / "welcome.mjml.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        '{% include "partials/footer.mjml.j2" %}', ""), encoding="utf-8")
    failed = sample_project.run("check", "welcome")
    assert failed.exit_code == 1
    assert "error: email (HTML part): the crisis line 988 is missing (hint: keep the footer " \
           "partial in the template)" in failed.stdout.splitlines()
    assert "error: email (HTML part): the disclaimer is missing" in failed.stdout
    assert "error: email (HTML part): the unsubscribe link is missing" in failed.stdout


def test_force_one_address_in_a_bcc_draft_does_not_forget_the_others(sample_project):
    # ann and bo share one Bcc draft: --force ann moves that draft aside, but bo had it (the
    # editor may have sent it), so a later welcome must not welcome bo again.
    subscribe(sample_project, "ann@example.com", "bo@example.org")
    assert sample_project.run("welcome", "--mode", "bcc").exit_code == 0
    result = sample_project.run("welcome", "--mode", "bcc", "--force", "ann@example.com")
    assert result.exit_code == 0, result.stderr
    assert "Welcomed 1 subscriber(s)" in result.stdout
    assert welcomed(sample_project) == {"ann@example.com": "bcc", "bo@example.org": "bcc"}
    again = sample_project.run("welcome", "--mode", "bcc")
    assert "Welcomed 0 subscriber(s)" in again.stdout, again.stdout


def test_smtp_per_day_counts_the_issues_sent_today_too(sample_project, fault_server,
                                                       monkeypatch, tmp_path):
    # smtp.per_day is the account's allowance: welcomes sent after an issue the same day
    # count with the issue's messages (each folder has its own ledger).
    monkeypatch.setenv("NEWSLETTER_SMTP_RETRY_WAIT", "0.01")
    use_server(sample_project, fault_server.host, fault_server.port, "none", per_day=3)
    listed = tmp_path / "list.csv"
    listed.write_text("email,name\nx1@example.net,X\nx2@example.net,Y\n", encoding="utf-8")
    issue = sample_project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed))
    assert issue.exit_code == 0, issue.stderr
    subscribe(sample_project, *readers(2))
    result = sample_project.run("welcome", "--mode", "smtp")
    assert result.exit_code == 0, result.stderr
    assert len(fault_server.accepted) == 3
    assert "Stopped at smtp.per_day (3 message(s) in 24 hours)" in result.stdout
