"""`emit` refuses what it must not write, and where: checked before the first file, private files,
a failed run leaves the folder as it found it (issue 11)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import signup_mail as mail
from helpers import parse_eml
from test_emit import ISSUE_DIR, emit, many, outbox, write_csv

from newsletter.emit.ledger import LEDGER_FILE, Ledger
from newsletter.errors import NewsletterError, OutputError, RenderError
from newsletter.mail.build import build_issue
from newsletter.source.project import load_project
from newsletter.subscribers.lists import CsvList
from newsletter.subscribers.store import open_store

LONG_LOCAL = "a" * 65 + "@example.com"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# A local part over 64 characters (RFC 5321 4.5.3.1.1), in every source

def test_a_65_character_local_part_in_the_csv_is_skipped_with_the_reason(sample_project,
                                                                        tmp_path):
    rows = [(LONG_LOCAL, "Long"), ("a" * 64 + "@example.com", "Fits")]
    result = emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Skipped: .*s\.csv:2: email: 'a{65}@example\.com' has 65 characters "
                     r"before the @, more than the 64 mail servers must accept", result.stderr)
    assert [parse_eml(p)["To"].addresses[0].username for p in outbox(sample_project)] == \
        ["a" * 64]


def test_a_65_character_local_part_already_in_the_store_is_not_emitted(sample_project):
    with open_store(sample_project.root) as store, store.transaction():
        for address in (LONG_LOCAL, "ok@example.com"):
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None)
    result = sample_project.run("emit", "2")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Skipped: the subscriber store: email: 'a{65}@example\.com' has 65 "
                     r"characters before the @.*\(hint: `send\.py subscribers forget ADDRESS` "
                     r"removes it from the store\)", result.stderr)
    assert [parse_eml(p)["To"].addresses[0].addr_spec for p in outbox(sample_project)] == \
        ["ok@example.com"]


def test_a_signup_from_a_65_character_local_part_is_not_imported(sample_project):
    path = mail.write_mbox(sample_project.root / "signups.mbox",
                           [mail.iphone_plain(LONG_LOCAL), mail.iphone_plain("ok@example.com")])
    result = sample_project.run("subscribers", "import", str(path))
    assert result.exit_code == 0, result.stderr
    listed = sample_project.run("subscribers", "list", "--format", "csv").stdout
    assert "ok@example.com" in listed and LONG_LOCAL not in listed


# The newsletter's own address

def test_the_newsletters_own_address_in_the_list_is_skipped_and_reported(sample_project,
                                                                        tmp_path):
    rows = [("ann@example.com", "Ann"), ("Team@Mindshape.IO", "Us"), ("bob@example.com", "Bob")]
    result = emit(sample_project, write_csv(tmp_path / "s.csv", rows), "--mode", "bcc")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"Skipped: .*s\.csv:3: email: Team@mindshape\.io is the newsletter's own "
                     r"address \(the sender\); left out \(hint: remove the row\)", result.stderr)
    [draft] = outbox(sample_project)
    message = parse_eml(draft)
    assert [a.addr_spec for a in message["Bcc"].addresses] == ["ann@example.com",
                                                               "bob@example.com"]
    assert "2 subscriber(s)" in result.stdout and "1 row(s) skipped" in result.stdout


def test_a_list_of_only_the_newsletters_own_address_emits_nothing(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", [("team@mindshape.io", "Us")]))
    assert result.exit_code == 1
    assert result.errors[-1].startswith("Error: nothing emitted: all 1 row(s)")
    assert not sample_project.out.exists()


# The whole list is read before the first draft

def test_a_non_utf8_byte_mid_list_stops_the_run_before_any_draft_and_names_its_line(
        sample_project, tmp_path):
    rows = many(3000)
    rows[10] = ("quoted@example.com", "Two\nlines")  # one row on two lines of the file
    path = write_csv(tmp_path / "s.csv", rows)
    data = path.read_bytes()
    at = data.index(b"reader1500@")
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    # Row 1500 (0-based) is on line 1502 after the header, one more for the quoted line break.
    editor_line = data[:at].count(b"\n") + 1
    assert editor_line == 1503
    result = emit(sample_project, path)
    assert result.exit_code == 1
    assert result.errors == [f"Error: {path}:1503: is not UTF-8 text (hint: save the list as "
                             "UTF-8 CSV)"]
    assert not sample_project.out.exists()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_line_of_a_bad_byte_is_counted_as_an_editor_counts_it(tmp_path, newline):
    lines = [b"email,name", b"a@example.com,A", b'b@example.com,"B', b'B"',
             b"c@example.com,C\xe9", b"d@example.com,D"]
    path = tmp_path / "s.csv"
    path.write_bytes(newline.join(lines) + newline)
    with pytest.raises(NewsletterError, match=r"s\.csv:5: is not UTF-8 text"):
        list(CsvList(path).rows())


def test_a_bad_byte_past_the_first_megabyte_is_found_on_its_line(tmp_path):
    """The list is checked a megabyte at a time: a letter split between two reads is fine."""
    data = b"email,name\r\n" + b"".join(b"r%d@example.com,R\r\n" % n for n in range(50_000))
    data = data[:data.rindex(b"\r\n", 0, (1 << 20) - 100) + 2]
    pad = (1 << 20) - 1 - len(data) - len(b"split@example.com,")
    data += b"split@example.com," + b"y" * pad + b"\xc3\xa9\r\n"
    assert data.index(b"\xc3\xa9") == (1 << 20) - 1
    data += b"".join(b"s%d@example.com,\xc3\xa9\r\n" % n for n in range(1000))
    line = data.count(b"\r\n") + 1
    path = tmp_path / "s.csv"
    path.write_bytes(data + b"x@example.com,\xc3(\r\n")
    with pytest.raises(NewsletterError, match=rf"s\.csv:{line}: is not UTF-8 text"):
        list(CsvList(path).rows())


def test_a_missing_list_or_a_folder_is_one_clear_error(tmp_path):
    with pytest.raises(NewsletterError, match=r"missing\.csv: no such file") as missing:
        list(CsvList(tmp_path / "missing.csv").rows())
    assert missing.value.hint == "check the path given to --subscribers"
    with pytest.raises(NewsletterError, match=r"is a folder, not a CSV file") as folder:
        list(CsvList(tmp_path).rows())
    assert "--subscribers" in folder.value.hint


# Never where git would pick the drafts up

def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def clone(sample_project):
    """The sample project as a git work tree, with the repository's .gitignore."""
    shutil.copy(Path(__file__).resolve().parents[1] / ".gitignore",
                sample_project.root / ".gitignore")
    git("init", "-q", cwd=sample_project.root)
    return sample_project


@pytest.mark.parametrize("mode", ["eml", "mailto"])
def test_drafts_inside_a_git_work_tree_are_refused_unless_ignored(clone, tmp_path, mode):
    csv_path = write_csv(tmp_path / "s.csv", many(2))
    result = emit(clone, csv_path, "--out", str(clone.root / "drafts"), "--mode", mode)
    assert result.exit_code == 1
    assert len(result.errors) == 1
    assert re.fullmatch(r"Error: .*drafts/002-parts-that-help/ is inside a git work tree and not "
                        r"ignored \(hint: write the drafts and the ledger \(--out DIR\) outside "
                        r"the repository, or add it to \.gitignore; it names subscribers and "
                        r"must never be committed\)", result.errors[0])
    assert not (clone.root / "drafts").exists()
    assert "drafts" not in git("status", "--porcelain", "--untracked-files=all", cwd=clone.root)
    # The default out/ is ignored; so is a folder the editor adds to .gitignore.
    assert emit(clone, csv_path, "--mode", mode).exit_code == 0
    with (clone.root / ".gitignore").open("a") as ignore:
        ignore.write("/drafts/\n")
    result = emit(clone, csv_path, "--out", str(clone.root / "drafts"), "--mode", mode)
    assert result.exit_code == 0, result.stderr


def test_an_issue_folder_git_tracks_is_refused(clone, tmp_path):
    csv_path = write_csv(tmp_path / "s.csv", many(1))
    assert emit(clone, csv_path).exit_code == 0
    git("add", "-f", f"out/{ISSUE_DIR}/{LEDGER_FILE}", cwd=clone.root)
    result = emit(clone, csv_path)
    assert result.exit_code == 1
    assert re.fullmatch(r"Error: .*/out/002-parts-that-help/ is tracked by git \(hint: run: git "
                        r"rm -r --cached .*/out/002-parts-that-help/, .*\)", result.errors[0])


# Private files in private folders

@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_everything_that_names_subscribers_is_0600_in_0700_folders(sample_project, tmp_path,
                                                                   umask_022):
    csv_path = write_csv(tmp_path / "s.csv", many(3))
    assert emit(sample_project, csv_path).exit_code == 0
    assert emit(sample_project, csv_path, "--force").exit_code == 0
    folder = sample_project.out / ISSUE_DIR
    [replaced] = folder.glob("replaced-*")
    assert {p: mode_of(p) for p in (folder, folder / "outbox", replaced)} == \
        dict.fromkeys((folder, folder / "outbox", replaced), 0o700)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {folder / LEDGER_FILE, folder / ".emit.lock"} <= set(files)
    assert {p.name: mode_of(p) for p in files} == {p.name: 0o600 for p in files}
    with Ledger(folder) as ledger:  # -wal and -shm exist while it is open
        ledger.set_meta("probe", "1")
        companions = [folder / f"{LEDGER_FILE}-wal", folder / f"{LEDGER_FILE}-shm"]
        assert [mode_of(p) for p in companions] == [0o600, 0o600]


def test_a_ledger_left_world_readable_by_an_older_version_is_made_private(sample_project,
                                                                          tmp_path, umask_022):
    csv_path = write_csv(tmp_path / "s.csv", many(2))
    assert emit(sample_project, csv_path).exit_code == 0
    folder = sample_project.out / ISSUE_DIR
    for path in (folder, folder / "outbox"):
        path.chmod(0o755)
    for path in (folder / LEDGER_FILE, folder / ".emit.lock"):
        path.chmod(0o644)
    assert emit(sample_project, write_csv(tmp_path / "b.csv", many(3))).exit_code == 0
    assert [mode_of(p) for p in (folder, folder / "outbox")] == [0o700, 0o700]
    assert [mode_of(p) for p in (folder / LEDGER_FILE, folder / ".emit.lock")] == [0o600, 0o600]


def test_mailto_files_are_private_too(sample_project, tmp_path, umask_022):
    assert emit(sample_project, write_csv(tmp_path / "s.csv", many(2)), "--mode",
                "mailto").exit_code == 0
    folder = sample_project.out / ISSUE_DIR
    assert mode_of(folder) == 0o700
    assert {mode_of(p) for p in folder.iterdir()} == {0o600}


# A failed run leaves the folder as it found it

def test_a_list_that_cannot_be_read_creates_nothing(sample_project, tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    result = emit(sample_project, path)
    assert result.exit_code == 1 and len(result.errors) == 1
    assert not sample_project.out.exists()


def test_a_subject_that_cannot_go_in_a_header_stops_the_run_before_the_folder(
        sample_project, tmp_path, monkeypatch):
    """The drafts' headers are made before anything is written. (Issue files are checked
    for such subjects when read: the header writer is made to refuse one here.)"""
    import newsletter.mail.message

    seen = []

    def refuse(field: str, value: str) -> bytes:
        seen.append(sample_project.out.exists())
        raise RenderError(f"the {field} {value!r} cannot go in a header", "simplify it")

    monkeypatch.setattr(newsletter.mail.message, "unstructured_header", refuse)
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(2)))
    assert result.exit_code == 1
    assert result.errors[0].startswith("Error: the Subject 'The parts of you")
    assert seen == [False]
    assert not sample_project.out.exists()


def fill(disk: Path, keep_pages: int) -> None:
    info = os.statvfs(disk)
    with (disk / "filler").open("wb") as handle:
        handle.write(b"x" * max((info.f_bavail - keep_pages) * info.f_frsize, 0))


@pytest.mark.parametrize("keep_pages", [0, 2, 4])
def test_a_full_disk_when_the_ledger_is_opened_says_so_and_leaves_nothing(
        sample_project, tmp_path, small_disk, keep_pages):
    """SQLite says 'database or disk is full', or 'disk I/O error' when its -shm file
    cannot grow: both are a full disk to the editor."""
    fill(small_disk, keep_pages)
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(2)), "--out",
                  str(small_disk / "out"))
    assert result.exit_code == 1
    assert len(result.errors) == 1
    assert re.fullmatch(r"Error: cannot open the ledger .*ledger\.sqlite3: the disk is full "
                        r"\(.*\) \(hint: free some disk space, then run the same command "
                        r"again\)", result.errors[0])
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_failed_emit_into_a_folder_build_made_leaves_only_builds_files(
        sample_project, tmp_path, small_disk):
    project = load_project(sample_project.root)
    build_issue(project, "2", small_disk)
    folder = small_disk / ISSUE_DIR
    before = sorted(p.name for p in folder.iterdir())
    fill(small_disk, 2)
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(2)), "--out",
                  str(small_disk))
    assert result.exit_code == 1 and "the disk is full" in result.errors[0]
    assert sorted(p.name for p in folder.iterdir()) == before


# build: the real reason a folder cannot be written

def test_build_into_a_folder_that_cannot_be_made_names_the_cause(sample_project):
    project = load_project(sample_project.root)
    with pytest.raises(OutputError) as error:
        build_issue(project, "2", Path("/proc/x"))
    assert "No such file or directory" in error.value.message
    assert "disk space" not in error.value.hint
    assert "pick another --out folder" in error.value.hint


def test_build_into_a_file_is_one_output_error(sample_project, tmp_path):
    project = load_project(sample_project.root)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"file is a file, not a folder"):
        build_issue(project, "2", tmp_path / "file")
    with pytest.raises(OutputError, match=r"Not a directory") as error:
        build_issue(project, "2", tmp_path / "file" / "below")
    assert "a part of that path is a file" in error.value.hint


def test_build_on_a_read_only_disk_says_so(sample_project, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    project = load_project(sample_project.root)
    with pytest.raises(OutputError, match=r"Read-only file system") as error:
        build_issue(project, "2", small_disk / "out")
    assert error.value.hint == "that disk is mounted read-only: pick another --out folder"
