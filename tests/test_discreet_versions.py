"""The ledger's record of the discreet version (emit/versions.py): its hash is kept, and
compared, only once a discreet subscriber has been given it; it covers the neutral From name
and List-Id phrase as well as the subject and body; the usual version's record is as it was,
so ledgers written before keep resuming.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3

from helpers import parse_eml

ISSUE = "002-parts-that-help"
MAX = "email,discreet\nmax@example.org,no\n"
MAX_AND_KIM = "email,discreet\nmax@example.org,no\nkim@example.org,yes\n"
EVERYONE = ("email,discreet\nmax@example.org,no\nkim@example.org,yes\nbo@example.net,yes\n"
            "ann@example.com,no\n")


def emit(project, rows: str, *extra: str, mode: str = "eml"):
    path = project.root / "list.csv"
    path.write_text(rows, encoding="utf-8")
    return project.run("emit", "2", "--mode", mode, "--subscribers", str(path), *extra)


def set_discreet(project, key: str, value: str) -> None:
    config = project.root / "newsletter.yaml"
    text, count = re.subn(rf"(?m)^  {key}: .*$", f"  {key}: {value}",
                          config.read_text(encoding="utf-8"))
    assert count == 1
    config.write_text(text, encoding="utf-8")


def drafts(project) -> dict[str, tuple[str, str, str]]:
    """{recipient: (From name, Subject, List-Id)} of every draft in the outbox."""
    found = {}
    for path in sorted((project.out / ISSUE / "outbox").glob("*.eml")):
        message = parse_eml(path)
        (to,) = message["To"].addresses
        (sender,) = message["From"].addresses
        found[to.addr_spec] = (sender.display_name, message["Subject"], message["List-Id"])
    return found


def ledger_meta(project) -> dict[str, str]:
    db = sqlite3.connect(project.out / ISSUE / "ledger.sqlite3")
    try:
        return dict(db.execute("SELECT key, value FROM meta"))
    finally:
        db.close()


def test_a_discreet_version_nobody_got_may_change(sample_project):
    # Only max (the usual version) has the issue: the discreet version is nobody's yet.
    assert emit(sample_project, MAX).exit_code == 0
    assert "issue-discreet" not in ledger_meta(sample_project)
    set_discreet(sample_project, "subject", '"Pages · {{ issue.number }}"')
    result = emit(sample_project, MAX_AND_KIM)
    assert result.exit_code == 0, result.stderr
    shown = drafts(sample_project)
    assert sorted(shown) == ["kim@example.org", "max@example.org"]  # max's draft not redone
    assert shown["kim@example.org"][:2] == ("MS Notes", "Pages · 2")
    assert "issue-discreet" in ledger_meta(sample_project)


CHANGED = ["Error: the issue's discreet version changed since it was emitted to 1 "
           "subscriber(s) (hint: undo the change, or run with --force to emit the new "
           "version to everyone)"]


def assert_change_refused(project, key: str, value: str) -> None:
    """max (usual) and kim (discreet) have the issue; after discreet.KEY changes, emitting to
    everyone is refused, counting kim alone, and no draft is written."""
    assert emit(project, MAX_AND_KIM).exit_code == 0
    set_discreet(project, key, value)
    result = emit(project, EVERYONE)
    assert result.exit_code == 1
    assert result.errors == CHANGED
    assert sorted(drafts(project)) == ["kim@example.org", "max@example.org"]


def test_the_refusal_counts_only_those_who_got_the_discreet_version(sample_project):
    assert_change_refused(sample_project, "subject", '"Pages · {{ issue.number }}"')


def test_a_changed_discreet_version_is_refused_for_a_list_without_those_who_got_it(
        sample_project):
    assert emit(sample_project, "email,discreet\nkim@example.org,yes\n").exit_code == 0
    set_discreet(sample_project, "preheader", "Some pages for a quiet evening.")
    result = emit(sample_project, "email,discreet\nbo@example.net,yes\n")
    assert result.exit_code == 1
    assert "emitted to 1 subscriber(s)" in result.errors[0]


def test_a_changed_discreet_sender_name_is_refused_between_runs(sample_project):
    assert_change_refused(sample_project, "sender_name", "QQ Notes")
    set_discreet(sample_project, "sender_name", "MS Notes")  # undone: the rest get it
    again = emit(sample_project, EVERYONE)
    assert again.exit_code == 0, again.stderr
    shown = drafts(sample_project)
    assert shown["kim@example.org"][0] == shown["bo@example.net"][0] == "MS Notes"
    assert shown["kim@example.org"][2] == shown["bo@example.net"][2]


def test_force_gives_everyone_listed_the_new_discreet_version(sample_project):
    assert_change_refused(sample_project, "sender_name", "QQ Notes")
    forced = emit(sample_project, EVERYONE, "--force")
    assert forced.exit_code == 0, forced.stderr
    shown = drafts(sample_project)
    assert shown["kim@example.org"][0] == shown["bo@example.net"][0] == "QQ Notes"
    assert emit(sample_project, EVERYONE).exit_code == 0  # recorded: a rerun is not refused


def test_the_usual_versions_record_is_unchanged_so_older_ledgers_resume(sample_project):
    assert emit(sample_project, MAX).exit_code == 0
    meta = ledger_meta(sample_project)
    eml = parse_eml(next((sample_project.out / ISSUE / "outbox").glob("*.eml")))
    assert eml["Subject"] == "The parts of you that are trying to help"
    assert re.fullmatch("[0-9a-f]{64}", meta["issue"])
    # An older ledger: the discreet version's hash kept eagerly, by the digest of then, with
    # no discreet subscriber given it. It no longer stops a discreet subscriber's draft.
    db = sqlite3.connect(sample_project.out / ISSUE / "ledger.sqlite3")
    with db:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('issue-discreet', ?)",
                   (hashlib.sha256(b"as it was").hexdigest(),))
    db.close()
    result = emit(sample_project, MAX_AND_KIM)
    assert result.exit_code == 0, result.stderr
    assert ledger_meta(sample_project)["issue"] == meta["issue"]
    assert sorted(drafts(sample_project)) == ["kim@example.org", "max@example.org"]
