"""`send.py subscribers`: the signup mailbox read into a private store the editor can trust."""

from __future__ import annotations

import json
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
    "Fwd: RE: AW: TR:  Subscribe   to the Mindshape Newsletter", "SV: subscribe",
    "=?utf-8?b?U3Vic2NyaWJlIHRvIHRoZSBNaW5kc2hhcGUgbmV3c2xldHRlcg==?="])
def test_subscribe_words_are_recognised_however_written(project, subject):
    import_mbox(project, [mail.iphone_plain(subject=subject, body="hello")])
    assert statuses(project) == {"ann@example.com": "subscribed"}


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


def test_forget_erases_every_record_and_old_mail_does_not_bring_it_back(project):
    import_mbox(project, [mail.iphone_plain(day=2), mail.iphone_plain("bob@example.com", day=2)])
    result = project.run("subscribers", "forget", "ANN@example.com")
    assert result.exit_code == 0 and result.stdout.startswith("Forgot ANN@example.com")
    assert "ann@example.com" not in statuses(project)
    assert b"ann@example.com" not in store_db(project).read_bytes()
    again = project.run("subscribers", "import", str(project.root / "signups.mbox"))
    assert "1 requests from forgotten addresses ignored." in again.stdout
    assert "ann@example.com" not in statuses(project)
    # A newer subscribe request is a new consent: it counts.
    import_mbox(project, [mail.iphone_plain(day=30, message_id="<back@icloud.example>")])
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
    assert table[0].split() == ["email", "name", "status", "since"]
    assert table[-1] == "1 subscribed, 1 unsubscribed"
    csv_lines = project.run("subscribers", "list", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == ("email,name,status,since,consent_message_id,consent_date,"
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


def test_an_import_killed_part_way_leaves_the_store_as_it_was(project):
    import_mbox(project, [mail.iphone_plain()])
    source = big_mbox(project.root / "big.mbox", 4000)
    process = run_import(project, source)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    count = len(statuses(project))
    assert count in (1, 4001), count  # before or after, never in between
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
