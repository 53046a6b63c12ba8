"""`send.py subscribers`: the signup mailbox read into a private store the editor can trust."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import signup_mail as mail
from conftest import REPO

from newsletter.sqlite_tx import immediate
from newsletter.subscribers.store import StoreError, open_store


def store_db(project) -> Path:
    return project.root / ".subscribers" / "subscribers.sqlite3"


def statuses(project) -> dict[str, str]:
    result = project.run("subscribers", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {row["email"]: row["status"] for row in json.loads(result.stdout)}


def import_mbox(project, messages: list[bytes], name: str = "signups.mbox"):
    path = mail.write_mbox(project.root / name, messages) if not (project.root / name).exists() \
        else _append(project.root / name, messages)
    return project.run("subscribers", "import", str(path))


def _append(path: Path, messages: list[bytes]) -> Path:
    import mailbox

    box = mailbox.mbox(path)
    for data in messages:
        box.add(data)
    box.flush()
    box.close()
    return path


REALISTIC = [
    mail.iphone_plain(),                               # ann subscribes (iPhone, plain text)
    mail.thunderbird_encoded_name(),                   # zoe subscribes (RFC 2047 name)
    mail.iphone_plain("sam@example.com", "Sam", day=1),
    mail.outlook_html_only(),                          # sam unsubscribes (Outlook, HTML only)
    mail.gmail_reply_quoting_digest(),                 # a reply quoting a digest: not a request
    mail.out_of_office(),                              # auto-reply: ignored
    mail.vacation_reply_without_header(),              # auto-reply by subject: ignored
    mail.iphone_plain("gone@example.org", "Gone", day=2),
    mail.dsn_bounce(),                                 # gone@ bounces
    mail.spoofed_reply_to(),                           # real@ subscribes, Reply-To ignored
    mail.missing_from(),                               # malformed: reported, skipped
    mail.bad_charset_subject(),                        # malformed: reported, skipped
]


def test_a_realistic_mailbox_is_understood(project):
    result = import_mbox(project, REALISTIC)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Read {len(REALISTIC)} message(s) from {project.root / 'signups.mbox'}."
    assert lines[1] == "5 new, 1 unsubscribed, 1 bouncing, 1 not understood."
    assert "2 auto-replies ignored." in lines
    assert any("Re: The parts of you that are trying to help" in line for line in lines)
    assert "Flagged: real@example.com: reply-to differs from From: ignored" in lines
    assert statuses(project) == {
        "ann@example.com": "subscribed", "zoe@example.de": "subscribed",
        "sam@example.com": "unsubscribed", "gone@example.org": "bouncing",
        "real@example.com": "subscribed"}
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipped: ")]
    assert len(skipped) == 2 and "no usable From address" in skipped[0]


def test_display_names_are_kept_decoded(project):
    import_mbox(project, [mail.thunderbird_encoded_name()])
    rows = json.loads(project.run("subscribers", "list", "--format", "json").stdout)
    assert rows[0]["name"] == "Zoë Müller"


def test_the_reply_to_address_is_never_subscribed(project):
    import_mbox(project, [mail.spoofed_reply_to()])
    assert set(statuses(project)) == {"real@example.com"}


def test_importing_the_same_mail_again_changes_nothing(project):
    import_mbox(project, REALISTIC)
    before = statuses(project)
    again = project.run("subscribers", "import", str(project.root / "signups.mbox"))
    assert again.stdout.splitlines()[0].endswith(f"({len(REALISTIC)} read before).")
    assert again.stdout.splitlines()[1] == "0 new, 0 unsubscribed, 0 bouncing, 0 not understood."
    assert statuses(project) == before


@pytest.mark.parametrize("layout", ["maildir", "eml-folder"])
def test_maildir_and_a_folder_of_eml_read_the_same(project, layout):
    messages = [mail.iphone_plain(), mail.outlook_html_only("ann@example.com", day=5)]
    folder = project.root / layout
    if layout == "maildir":
        mail.write_maildir(folder, messages)
    else:
        folder.mkdir()
        for number, data in enumerate(messages):
            path = folder / f"{number:02d}.eml"
            path.write_bytes(data)
            os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    result = project.run("subscribers", "import", str(folder))
    assert result.exit_code == 0, result.stderr
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_the_latest_request_by_date_wins_not_the_last_read(project):
    # The unsubscribe (Nov 5) arrives first, the older subscribe (Nov 2) after it.
    import_mbox(project, [mail.iphone_plain(subject=mail.UNSUBSCRIBE, body="", day=5),
                          mail.iphone_plain(day=2)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    import_mbox(project, [mail.iphone_plain(day=9, message_id="<later@icloud.example>")])
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_same_date_the_later_arrival_wins(project):
    import_mbox(project, [mail.iphone_plain(day=3),
                          mail.iphone_plain(subject=mail.UNSUBSCRIBE, day=3,
                                            message_id="<u@icloud.example>")])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


@pytest.mark.parametrize("subject", [
    "subscribe to the mindshape newsletter", "Re: Subscribe to the Mindshape newsletter",
    "RE: AW: SV:  Subscribe   to the Mindshape Newsletter", "SV: subscribe",
    "=?utf-8?b?U3Vic2NyaWJlIHRvIHRoZSBNaW5kc2hhcGUgbmV3c2xldHRlcg==?="])
def test_subscribe_words_are_recognised_however_written(project, subject):
    import_mbox(project, [mail.iphone_plain(subject=subject, body="hello")])
    assert statuses(project) == {"ann@example.com": "subscribed"}


@pytest.mark.parametrize("subject", [
    "Fwd: Subscribe to the Mindshape newsletter", "WG: Subscribe to the Mindshape newsletter",
    "TR: Subscribe to the Mindshape newsletter", "RV: Subscribe to the Mindshape newsletter",
    "Re: Fw: Subscribe to the Mindshape newsletter"])
def test_a_forwarded_request_is_not_understood(project, subject):
    result = import_mbox(project, [mail.iphone_plain(subject=subject)])
    assert statuses(project) == {}
    assert "0 new, 0 unsubscribed, 0 bouncing, 1 not understood." in result.stdout
    assert "a forwarded message: who is asking is not clear" in result.stdout


@pytest.mark.parametrize("subject", [
    "Please do not Subscribe to the Mindshape newsletter", "Re: Subscribe to the Mindshape "
    "newsletter? No thanks", "Why did you subscribe me"])
def test_a_subject_that_only_contains_the_words_is_not_understood(project, subject):
    result = import_mbox(project, [mail.iphone_plain(subject=subject, body="hello")])
    assert statuses(project) == {}
    assert "1 not understood." in result.stdout


@pytest.mark.parametrize("body", [mail.UNSUBSCRIBE_BODY, "Actually, please UNSUBSCRIBE me.",
                                  "remove me please", "Stop sending these."])
def test_a_subscribe_subject_over_a_text_that_asks_to_leave_is_an_unsubscribe(project, body):
    # Asymmetric on purpose (issue 14): a plausible request to stop is applied and reported.
    import_mbox(project, [mail.iphone_plain(day=1, message_id="<first@x>")])
    result = import_mbox(project, [mail.iphone_plain(body=body)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    assert "asked to leave in their own words" in result.stdout


def test_a_changed_subject_is_understood_by_the_prefilled_body(project):
    import_mbox(project, [mail.iphone_plain(subject="Hi there", body=mail.SUBSCRIBE_BODY)])
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_a_delay_notice_is_not_a_bounce(project):
    result = import_mbox(project, [mail.iphone_plain("gone@example.org", day=2),
                                   mail.dsn_bounce(action="delayed")])
    assert statuses(project) == {"gone@example.org": "subscribed"}
    assert "1 not understood." in result.stdout.splitlines()[1]


def test_proof_of_consent_is_kept_and_shown(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    shown = project.run("subscribers", "show", "ann@example.com").stdout
    assert "status: subscribed since 2026-11-02T09:00:00+00:00" in shown
    assert ("consent: 'Subscribe to the Mindshape newsletter', 2026-11-02T09:00:00+00:00, "
            "Message-ID <ann-2@icloud.example>") in shown


def test_forget_erases_every_record_and_old_mail_does_not_bring_it_back(project, clock):
    import_mbox(project, [mail.iphone_plain(day=2), mail.iphone_plain("bob@example.com", day=2)])
    result = project.run("subscribers", "forget", "ANN@example.com")
    assert result.exit_code == 0 and result.stdout.startswith("Forgot ANN@example.com")
    assert "ann@example.com" not in statuses(project)
    assert b"ann@example.com" not in store_db(project).read_bytes()
    again = project.run("subscribers", "import", str(project.root / "signups.mbox"))
    assert "1 requests from forgotten addresses ignored." in again.stdout
    assert "ann@example.com" not in statuses(project)
    # A subscribe written after the forget is a new consent: it counts.
    clock.advance(days=40)
    later = mail.iphone_plain(message_id="<back@icloud.example>").replace(
        b"Date: " + mail.when(2).encode(), b"Date: Mon, 04 Jan 2027 09:00:00 +0000")
    assert later.count(b"2027") == 1
    import_mbox(project, [later])
    assert statuses(project)["ann@example.com"] == "subscribed"


def test_the_store_is_private(project):
    import_mbox(project, [mail.iphone_plain()])
    folder = store_db(project).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(store_db(project).stat().st_mode) == 0o600
    export = project.root / "export.csv"
    assert project.run("subscribers", "export", str(export)).exit_code == 0
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    assert export.read_text(encoding="utf-8").splitlines()[1].startswith(
        "ann@example.com,Ann Lee,subscribed,")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})


def test_every_command_refuses_a_store_that_git_would_carry(project):
    import_mbox(project, [mail.iphone_plain()])
    git(project.root, "init", "-q")
    for args in (["list"], ["show", "ann@example.com"], ["forget", "x@example.com"],
                 ["import", str(project.root / "signups.mbox")]):
        result = project.run("subscribers", *args)
        assert result.exit_code == 1
        assert "inside a git work tree and not ignored" in result.errors[0]
    (project.root / ".gitignore").write_text(".subscribers/\n", encoding="utf-8")
    assert project.run("subscribers", "list").exit_code == 0
    git(project.root, "add", "-f", ".subscribers/subscribers.sqlite3")
    git(project.root, "commit", "-q", "-m", "oops")
    result = project.run("subscribers", "list")
    assert result.exit_code == 1 and "is tracked by git" in result.errors[0]
    assert "git rm --cached" in result.errors[0]


def test_newsletter_store_moves_the_store(project, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_STORE", str(tmp_path / "elsewhere"))
    import_mbox(project, [mail.iphone_plain()])
    assert (tmp_path / "elsewhere" / "subscribers.sqlite3").exists()
    assert not (project.root / ".subscribers").exists()


def test_emit_without_a_list_sends_to_the_subscribed_only(project):
    import_mbox(project, REALISTIC)
    result = project.run("emit", "1", "--mode", "bcc")
    assert result.exit_code == 0, result.stderr
    from helpers import parse_eml

    [draft] = (project.out / "001-first" / "outbox").glob("*.eml")
    bcc = sorted(a.addr_spec for a in parse_eml(draft)["Bcc"].addresses)
    assert bcc == ["ann@example.com", "real@example.com", "zoe@example.de"]


def test_list_formats(project):
    import_mbox(project, [mail.iphone_plain(), mail.outlook_html_only()])
    table = project.run("subscribers", "list").stdout.splitlines()
    assert table[0].split() == ["email", "name", "status", "discreet", "since"]
    assert table[-1] == "1 subscribed, 1 unsubscribed"
    csv_lines = project.run("subscribers", "list", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == ("email,name,status,discreet,since,consent_message_id,consent_date,"
                            "consent_subject,flags")
    assert len(csv_lines) == 3


def big_mbox(path: Path, count: int) -> Path:
    return mail.write_mbox(path, [mail.iphone_plain(f"reader{n}@example.com", f"R {n}",
                                                    message_id=f"<m{n}@example.com>")
                                  for n in range(count)])


def run_import(project, source: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "send.py"), "--project",
                             str(project.root), "subscribers", "import", str(source)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def write_locked(db: Path) -> bool:
    """Whether another connection holds the store's write transaction right now."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def test_an_import_killed_part_way_leaves_the_store_as_it_was(project):
    import_mbox(project, [mail.iphone_plain()])
    source = big_mbox(project.root / "big.mbox", 4000)
    process = run_import(project, source)
    # Kill only once the import's transaction is open (it holds the write lock while it
    # reads the 4000 messages; the commit takes a few milliseconds of that), so the kill
    # lands mid-transaction rather than before it began or after it ended.
    deadline = time.monotonic() + 60
    while not write_locked(store_db(project)):
        assert process.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.2)  # well into the reading of the messages
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert len(statuses(project)) == 1  # as it was before: nothing of the 4000
    done = run_import(project, source)
    _, stderr = done.communicate(timeout=300)
    assert done.returncode == 0, stderr
    assert len(statuses(project)) == 4001


def test_two_imports_at_once_do_not_corrupt_the_store(project):
    first = big_mbox(project.root / "a.mbox", 1500)
    second = mail.write_mbox(project.root / "b.mbox", [
        mail.iphone_plain(f"other{n}@example.com", message_id=f"<o{n}@example.com>")
        for n in range(1500)])
    processes = [run_import(project, first), run_import(project, second)]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    assert len(statuses(project)) == 3000
    db = sqlite3.connect(store_db(project))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _open_the_store(root: Path, barrier, results) -> None:
    barrier.wait()  # both processes reach the new store at the same instant
    try:
        with open_store(root):
            results.put("ok")
    except StoreError as exc:
        results.put(" ".join(exc.lines()))


def test_two_processes_opening_a_new_store_together_both_succeed(tmp_path):
    """SQLite answers the switch to WAL "database is locked" at once, without waiting: two
    first imports started together (two terminals, a script) must both go through."""
    context = multiprocessing.get_context("fork")
    for attempt in range(30):  # without the wait, about one pair in four failed
        root = tmp_path / f"project-{attempt}"
        root.mkdir()
        barrier, results = context.Barrier(2), context.Queue()
        processes = [context.Process(target=_open_the_store, args=(root, barrier, results))
                     for _ in range(2)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(10)
        assert outcomes == ["ok", "ok"], f"attempt {attempt}: {outcomes}"


def test_a_full_disk_inside_a_transaction_is_reported_as_a_full_disk(small_disk):
    """SQLite rolls back by itself when the disk fills: the error shown must be that one,
    not a failed ROLLBACK of ours."""
    db = sqlite3.connect(small_disk / "x.sqlite3", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x BLOB)")
        with pytest.raises(sqlite3.OperationalError) as error, immediate(db):
            for _ in range(1000):
                db.execute("INSERT INTO t VALUES (?)", (os.urandom(64 * 1024),))
        assert "full" in str(error.value), error.value
        assert not db.in_transaction
    finally:
        db.close()


def test_a_store_another_process_is_writing_is_one_clear_busy_error(project):
    """The write lock is taken first; when another process keeps it, the editor is told
    why, and the store is as it was."""
    with open_store(project.root) as store:
        store.db.execute("PRAGMA busy_timeout = 50")  # not the minute an import waits
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError) as error, store.transaction():
                store.db.execute("DELETE FROM subscribers")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert error.value.lines() == [
            "the subscriber store is busy: database is locked (hint: another import is "
            "running; wait for it and try again)"]
        with store.transaction():  # free again
            pass


# What the person wrote, and who they are


def test_an_unsubscribe_from_a_subscribed_account_unsubscribes_the_address_it_names(project):
    import_mbox(project, [mail.iphone_plain(day=2),
                          mail.iphone_plain("ann.work@example.net", "Ann at work", day=3)])
    # An issue's unsubscribe link puts the reader's address below the pre-filled body.
    result = import_mbox(project, [mail.iphone_plain(
        "ann.work@example.net", "Ann at work", day=5, subject=mail.UNSUBSCRIBE,
        body=f"{mail.UNSUBSCRIBE_BODY}\n\nann@example.com")])
    assert statuses(project) == {"ann@example.com": "unsubscribed",
                                 "ann.work@example.net": "subscribed"}
    assert ("Flagged: ann@example.com: unsubscribe for ann@example.com sent from "
            "ann.work@example.net") in result.stdout.splitlines()


def test_an_unsubscribe_for_another_address_from_a_stranger_waits(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    result = import_mbox(project, [mail.iphone_plain(
        "ann.work@example.net", "Ann at work", day=5, subject=mail.UNSUBSCRIBE,
        body=f"{mail.UNSUBSCRIBE_BODY}\n\nann@example.com")])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert ("(an unsubscribe for ann@example.com from ann.work@example.net, who is not "
            "subscribed)") in result.stdout
    assert "    names: ann@example.com (accept ... --for EMAIL)" in \
        project.run("subscribers", "pending").stdout.splitlines()
    wrong = project.run("subscribers", "accept", "1", "--as", "unsubscribe", "--for", "x@y.org")
    assert wrong.exit_code == 1 and "does not name x@y.org" in wrong.stderr
    accepted = project.run("subscribers", "accept", "1", "--as", "unsubscribe", "--for",
                           "ann@example.com")
    assert accepted.stdout == "Accepted #1 as unsubscribe for ann@example.com: unsubscribed.\n"
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_one_stranger_cannot_unsubscribe_many(project):
    import_mbox(project, [mail.iphone_plain("fay@example.com", day=2),
                          mail.iphone_plain("gus@example.com", day=2)])
    result = import_mbox(project, [mail.iphone_plain(
        "mallory@evil.example", "Mallory", day=5, subject=mail.UNSUBSCRIBE,
        body=f"{mail.UNSUBSCRIBE_BODY}\n\nfay@example.com\ngus@example.com")])
    assert statuses(project) == {"fay@example.com": "subscribed", "gus@example.com": "subscribed"}
    assert ("an unsubscribe naming 2 addresses (fay@example.com, gus@example.com): the link "
            "names one") in result.stdout


def test_an_unsubscribe_naming_an_unknown_address_is_for_its_sender(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    import_mbox(project, [mail.iphone_plain(day=5, subject=mail.UNSUBSCRIBE,
                                            body=f"{mail.UNSUBSCRIBE_BODY}\n\nnobody@example.org")])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


@pytest.mark.parametrize("header", [
    "From: Ann Lee <ann@example.com>, Eve <eve@example.com>",
    "From: Ann Lee <ann@example.com>\r\nFrom: Eve <eve@example.com>"])
def test_several_from_addresses_are_malformed(project, header):
    data = mail.iphone_plain().replace(b"From: Ann Lee <ann@example.com>", header.encode())
    result = import_mbox(project, [data])
    assert statuses(project) == {}
    assert "more than one From" in result.stderr


@pytest.mark.parametrize("address", ["team@mindshape.io", "TEAM@Mindshape.io"])
def test_a_request_from_the_newsletters_own_address_is_ignored(project, address):
    result = import_mbox(project, [mail.iphone_plain(address, "Mindshape")])
    assert statuses(project) == {}
    shown = address.split("@")[0] + "@mindshape.io"  # the domain is lower-cased, not the rest
    assert (f"Flagged: {shown}: sent from the newsletter's own address: ignored"
            in result.stdout.splitlines())


# Dates


def test_an_undated_unsubscribe_is_dated_by_its_arrival_not_taken_as_the_oldest(project):
    undated = mail.iphone_plain(day=9, subject=mail.UNSUBSCRIBE, body="").replace(
        f"Date: {mail.when(9)}\r\n".encode(), b"")
    path = mail.write_mbox_dated(project.root / "dated.mbox", [
        (mail.iphone_plain(day=2), dt.datetime(2026, 11, 2, 9, 1, tzinfo=dt.UTC)),
        (undated, dt.datetime(2026, 11, 9, 10, 0, tzinfo=dt.UTC))])
    result = project.run("subscribers", "import", str(path))
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    assert ("Flagged: ann@example.com: no usable Date: dated by its arrival, 2026-11-09 10:00"
            in result.stdout.splitlines())


def test_without_an_arrival_time_an_undated_request_is_dated_by_the_import(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    eml = project.root / "undated.eml"
    eml.write_bytes(mail.iphone_plain(day=9, subject=mail.UNSUBSCRIBE, body="Date: garbage")
                    .replace(mail.when(9).encode(), b"not a date"))
    result = project.run("subscribers", "import", str(eml))
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    assert "no usable Date: dated by the import, 2026-12-15 12:00" in result.stdout


def test_a_date_in_the_future_is_held_never_taken_as_now(project):
    future = mail.iphone_plain(day=2).replace(mail.when(2).encode(),
                                              b"Mon, 01 Jan 2035 09:00:00 +0000")
    result = import_mbox(project, [future])
    assert "1 request(s) held for you to decide." in result.stdout
    assert ("  #1  signups.mbox #1  2035-01-01 09:00  Subscribe to the Mindshape newsletter  "
            "(Date 2035-01-01 is in the future)") in result.stdout.splitlines()
    assert statuses(project) == {}
    # Accepted, it is dated by the decision: a real unsubscribe sent after that still wins.
    assert project.run("subscribers", "accept", "1", "--as", "subscribe").exit_code == 0
    import_mbox(project, [mail.iphone_plain(subject=mail.UNSUBSCRIBE, body="",
                                            message_id="<u@x>").replace(
        mail.when(2).encode(), b"Wed, 16 Dec 2026 09:00:00 +0000")])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


# Quoted replies, HTML, auto-replies


def test_an_html_only_request_is_recognised_by_its_body_above_the_reply_block(project):
    result = import_mbox(project, [mail.outlook_html_changed_subject()])
    assert result.exit_code == 0, result.stderr
    assert statuses(project) == {"ida@example.com": "subscribed"}


def test_a_quoted_unsubscribe_in_a_gmail_reply_is_not_a_request(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    result = import_mbox(project, [mail.gmail_reply_quoting_unsubscribe()])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "1 not understood." in result.stdout


@pytest.mark.parametrize("intro", [
    "Von: Mindshape <team@mindshape.io>\nGesendet: Dienstag, 17. November 2026\nBetreff: Hi",
    "De : Mindshape <team@mindshape.io>\nEnvoyé : mardi 17 novembre 2026",
    "From: Mindshape <team@mindshape.io>\nSent: Tuesday, November 17, 2026",
    "Op di 17 nov. 2026 om 07:30 schreef Mindshape <team@mindshape.io>:",
    "El mar, 17 nov 2026 a las 7:30, Mindshape (<team@mindshape.io>) escribió:",
    "Il giorno mar 17 nov 2026 alle ore 07:30 Mindshape ha scritto:",
    "________________________________",
    "-----Ursprüngliche Nachricht-----",
])
def test_quoted_text_in_other_languages_is_not_the_writers_own(project, intro):
    import_mbox(project, [mail.iphone_plain(day=2)])
    body = f"Danke!\n\n{intro}\n{mail.UNSUBSCRIBE_BODY}"
    result = import_mbox(project, [mail.iphone_plain(subject="AW: Mindshape", body=body, day=4)])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "1 not understood." in result.stdout


@pytest.mark.parametrize("html", [
    f"<div>Merci</div><div id=\"appendonsend\"></div><div>{mail.UNSUBSCRIBE_BODY}</div>",
    f"<div>Merci</div><hr><div>{mail.UNSUBSCRIBE_BODY}</div>",
    f"<p>Merci</p><blockquote><p>{mail.UNSUBSCRIBE_BODY}</p></blockquote>",
    f"<style>/* {mail.UNSUBSCRIBE_BODY} */</style><p>Merci</p>",
])
def test_quoted_html_is_not_the_writers_own(project, html):
    data = mail.iphone_plain(subject="RE: Mindshape", body=html).replace(
        b"text/plain; charset=us-ascii", b"text/html; charset=utf-8")
    import_mbox(project, [data])
    assert statuses(project) == {}


def test_malformed_html_is_read_in_linear_time(project):
    for junk in ("<div " * 40000, "<!--" * 50000, '<a href="' * 30000):
        data = mail.iphone_plain(subject="Hi", body=junk + mail.SUBSCRIBE_BODY,
                                 message_id=f"<{len(junk)}@x>").replace(
            b"text/plain; charset=us-ascii", b"text/html; charset=utf-8")
        started = time.monotonic()
        result = import_mbox(project, [data], name=f"junk{len(junk)}.mbox")
        assert result.exit_code == 0
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("subject", [
    "Automatische Antwort: Subscribe to the Mindshape newsletter",
    "Respuesta automática: Subscribe to the Mindshape newsletter",
    "Risposta automatica: Subscribe to the Mindshape newsletter",
    "Autosvar: Subscribe to the Mindshape newsletter", "Abwesend: bis 3.12.",
    "[Auto-Reply] Subscribe to the Mindshape newsletter", "Re: Out of office"])
def test_auto_replies_in_other_languages_are_ignored(project, subject):
    result = import_mbox(project, [mail.iphone_plain(subject=subject)])
    assert statuses(project) == {}
    assert "1 auto-replies ignored." in result.stdout


@pytest.mark.parametrize("header", ["Auto-Submitted: no (sent by a person)", "X-Autoreply: no"])
def test_headers_that_say_no_are_not_auto_replies(project, header):
    data = mail.iphone_plain().replace(b"X-Mailer:", header.encode() + b"\r\nX-Mailer:")
    import_mbox(project, [data])
    assert statuses(project) == {"ann@example.com": "subscribed"}


# Bounces


@pytest.mark.parametrize("variant", [
    {}, {"global_status": True}, {"base64_status": True},
    {"global_status": True, "base64_status": True}, {"final": "gone@forwarded.example"}])
def test_bounces_as_other_servers_write_them(project, variant):
    import_mbox(project, [mail.iphone_plain("gone@example.org", day=2)])
    result = import_mbox(project, [mail.dsn_variant(**variant)])
    assert result.exit_code == 0, result.stderr
    assert statuses(project) == {"gone@example.org": "bouncing"}


def test_a_bounce_for_an_address_not_in_the_store_is_listed_not_recorded(project):
    result = import_mbox(project, [mail.dsn_bounce("stranger@example.org")])
    assert statuses(project) == {}
    assert "a bounce for an address not in the store: stranger@example.org" in result.stdout


# Reading a message once


def test_a_different_message_reusing_a_message_id_is_read_and_reported(project):
    import_mbox(project, [mail.iphone_plain(day=2, message_id="<same@example.com>")])
    result = import_mbox(project, [mail.iphone_plain(day=5, subject=mail.UNSUBSCRIBE, body="",
                                                     message_id="<same@example.com>")])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    assert "Message-ID <same@example.com> was used before by a different message" in result.stdout


def test_a_message_without_message_id_is_the_same_when_status_headers_change(project):
    data = mail.iphone_plain(day=2).replace(b"Message-Id: <ann-2@icloud.example>\r\n", b"")
    import_mbox(project, [data])
    again = import_mbox(project, [data.replace(b"X-Mailer:", b"Status: RO\r\nX-Mailer:")],
                        name="again.mbox")
    assert again.stdout.splitlines()[0].endswith("(1 read before).")


def test_broken_mime_is_reported_or_read_and_never_stops_the_import(project):
    result = import_mbox(project, [mail.broken_mime(), mail.iphone_plain()])
    assert result.exit_code == 0, result.stderr
    assert statuses(project)["ann@example.com"] == "subscribed"
    # No boundary parameter: the body is one text, and it still asks to subscribe.
    assert statuses(project).get("broken@example.com") in (None, "subscribed")
    assert result.stdout.splitlines()[0].startswith("Read 2 message(s)")


# Local sources


def test_a_single_eml_file_is_one_message(project):
    eml = project.root / "request.eml"
    eml.write_bytes(mail.iphone_plain())
    result = project.run("subscribers", "import", str(eml))
    assert result.stdout.splitlines()[0] == f"Read 1 message(s) from {eml}."
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_a_maildir_with_only_cur_is_read(project):
    folder = project.root / "Maildir"
    mail.write_maildir(folder, [mail.iphone_plain()])
    for name in ("new", "tmp"):
        for file in (folder / name).iterdir():
            file.rename(folder / "cur" / (file.name + ":2,S"))
        (folder / name).rmdir()
    result = project.run("subscribers", "import", str(folder))
    assert result.exit_code == 0, result.stderr
    assert statuses(project) == {"ann@example.com": "subscribed"}


# The store


def test_a_store_migrated_by_another_process_meanwhile_is_not_migrated_twice(project,
                                                                           monkeypatch):
    # Two first imports at once: the other process migrates between our reading of the
    # schema version and our BEGIN IMMEDIATE. Made to happen here, every time.
    from newsletter.subscribers import store as store_module

    original = store_module.SubscriberStore.transaction
    raced = []

    def transaction(self):
        if not raced:
            raced.append(True)
            store_module.SubscriberStore(self.folder).close()  # the other process
        return original(self)

    monkeypatch.setattr(store_module.SubscriberStore, "transaction", transaction)
    result = import_mbox(project, [mail.iphone_plain()])
    assert result.exit_code == 0, result.errors
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_a_damaged_store_is_an_error_with_a_hint_not_a_traceback(project):
    import_mbox(project, [mail.iphone_plain()])
    store_db(project).write_bytes(b"this is not a database" * 100)
    result = project.run("subscribers", "list")
    assert result.exit_code == 1
    assert "file is not a database" in result.errors[0]
    assert "restore it from a backup" in result.errors[0]


def test_show_and_forget_take_the_address_however_written(project):
    import_mbox(project, [mail.iphone_plain("ann@bücher.example", day=2)])
    shown = project.run("subscribers", "show", "  ann@BÜCHER.example ")
    assert shown.exit_code == 0, shown.errors
    assert shown.stdout.startswith("ann@xn--bcher-kva.example (Ann Lee)")
    forgot = project.run("subscribers", "forget", "ann@Bücher.Example")
    assert forgot.exit_code == 0, forgot.errors
    assert statuses(project) == {}


def test_show_and_forget_of_an_unknown_address_fail(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    shown = project.run("subscribers", "show", "nobody@example.com")
    assert shown.exit_code == 1 and "nobody@example.com is not in the store" in shown.errors[0]
    forgot = project.run("subscribers", "forget", "bob@example.com")
    assert forgot.exit_code == 1 and "bob@example.com is not in the store" in forgot.errors[0]
    # The suppression is kept anyway: bob's mail, imported later, does not add him.
    later = import_mbox(project, [mail.iphone_plain("bob@example.com", day=3)], name="b.mbox")
    assert "1 requests from forgotten addresses ignored." in later.stdout
    bad = project.run("subscribers", "show", "not an address")
    assert bad.exit_code == 1 and "is not a valid address" in bad.errors[0]


def test_forget_leaves_no_trace_in_the_write_ahead_log(project):
    import_mbox(project, [mail.iphone_plain(day=2), mail.iphone_plain("bob@example.com", day=2)])
    # Another connection open (a second command, a backup tool) keeps the -wal file alive.
    reader = sqlite3.connect(store_db(project))
    reader.execute("SELECT count(*) FROM subscribers").fetchone()
    try:
        assert project.run("subscribers", "forget", "ann@example.com").exit_code == 0
        wal = store_db(project).with_name("subscribers.sqlite3-wal")
        for path in (store_db(project), wal):
            if path.exists():
                assert b"ann@example.com" not in path.read_bytes(), path.name
    finally:
        reader.close()


def test_a_store_folder_not_yet_made_inside_a_repository_is_refused_on_the_first_run(
        project, monkeypatch):
    git(project.root, "init", "-q")
    (project.root / ".gitignore").write_text("*.mbox\n", encoding="utf-8")
    monkeypatch.setenv("NEWSLETTER_STORE", str(project.root / "x" / "y"))
    result = import_mbox(project, [mail.iphone_plain()])
    assert result.exit_code == 1
    assert "inside a git work tree and not ignored" in result.errors[0]
    assert not (project.root / "x").exists()


def test_ignoring_only_the_database_file_is_not_enough(project):
    git(project.root, "init", "-q")
    # The -wal and -shm files next to it hold the same rows.
    (project.root / ".gitignore").write_text("*.mbox\n.subscribers/subscribers.sqlite3\n",
                                             encoding="utf-8")
    result = import_mbox(project, [mail.iphone_plain()])
    assert result.exit_code == 1
    assert "inside a git work tree and not ignored" in result.errors[0]
    (project.root / ".gitignore").write_text("*.mbox\n.subscribers/\n", encoding="utf-8")
    assert import_mbox(project, [mail.iphone_plain()]).exit_code == 0


def test_export_refuses_a_file_git_would_carry(project, tmp_path):
    import_mbox(project, [mail.iphone_plain()])
    git(project.root, "init", "-q")
    (project.root / ".gitignore").write_text(".subscribers/\n*.mbox\n", encoding="utf-8")
    result = project.run("subscribers", "export", str(project.root / "list.csv"))
    assert result.exit_code == 1
    assert "list.csv is inside a git work tree and not ignored" in result.errors[0]
    assert not (project.root / "list.csv").exists()
    outside = tmp_path / "outside" / "list.csv"
    outside.parent.mkdir()
    assert project.run("subscribers", "export", str(outside)).exit_code == 0
