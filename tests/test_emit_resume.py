"""Interrupted emission (kill -9, Ctrl-C, a full disk) resumes with everyone exactly once."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from helpers import parse_eml
from test_emit import ISSUE_DIR, many, write_csv

from newsletter.errors import OutputError
from newsletter.output import write_pieces_atomic


def start_emit(root: Path, csv_path: Path, out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "send.py"), "--project", str(root),
                             "emit", "2", "--subscribers", str(csv_path), "--out", str(out),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_files(folder: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if folder.is_dir() and sum(1 for _ in folder.glob("*.eml")) >= count:
            return
        time.sleep(0.01)
    pytest.fail("the emit process ended or stalled before it was interrupted")


def recipients(outbox: Path) -> list[str]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = parse_eml(path)
        assert message.defects == []
        found += [a.addr_spec for a in message["To"].addresses
                  if a.addr_spec != "team@mindshape.io"]
        if message["Bcc"]:
            found += [a.addr_spec for a in message["Bcc"].addresses]
    return found


def resume(root: Path, csv_path: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "send.py"), "--project", str(root), "emit",
                           "2", "--subscribers", str(csv_path), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(("mode", "sig"), [("eml", signal.SIGKILL), ("eml", signal.SIGINT),
                                           ("bcc", signal.SIGKILL)])
def test_a_run_killed_part_way_resumes_with_each_subscriber_exactly_once(
        sample_project, tmp_path, mode, sig):
    rows = many(6000)
    csv_path = write_csv(tmp_path / "s.csv", rows)
    out = tmp_path / "out"
    outbox = out / ISSUE_DIR / "outbox"
    args = ("--mode", mode, "--batch-size", "7")
    process = start_emit(sample_project.root, csv_path, out, *args)
    wait_for_files(outbox, 700 if mode == "eml" else 100, process)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert process.returncode == 130
        assert "Error: interrupted" in stderr and "Traceback" not in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    interrupted = len(recipients(outbox))
    assert 0 < interrupted < len(rows)

    done = resume(sample_project.root, csv_path, out, *args)
    assert done.returncode == 0, done.stderr
    got = recipients(outbox)
    assert sorted(got) == sorted(address for address, _ in rows)  # everyone, once
    assert not list(outbox.glob(".*.tmp"))
    assert "already had this issue" in done.stdout


def test_a_full_disk_stops_cleanly_and_resumes_once_there_is_room(sample_project, tmp_path,
                                                                  small_disk):
    disk = small_disk
    rows = many(300)
    csv_path = write_csv(tmp_path / "s.csv", rows)
    full = resume(sample_project.root, csv_path, disk)
    assert full.returncode == 1
    errors = full.stderr.strip().splitlines()
    assert len(errors) == 1 and "No space left on device" in errors[0], full.stderr
    assert "Traceback" not in full.stderr
    outbox = disk / ISSUE_DIR / "outbox"
    first = recipients(outbox) if outbox.exists() else []  # every file there is whole
    assert len(first) < len(rows)
    subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
    done = resume(sample_project.root, csv_path, disk)
    assert done.returncode == 0, done.stderr
    assert sorted(recipients(outbox)) == sorted(address for address, _ in rows)


def test_a_draft_that_only_partly_fits_is_an_error_and_leaves_no_file(small_disk):
    """The disk takes the first part of the write (a short write), then reports it is full."""
    folder = small_disk / "outbox"
    folder.mkdir()
    filler = small_disk / "filler"
    room = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"x" * (room - 8192))
    pieces = [b"a" * 6000, b"b" * 6000, b"c" * 6000]
    with pytest.raises(OutputError, match=r"cannot write .*outbox/d\.eml: No space left on device"):
        write_pieces_atomic(str(folder), [("d.eml", pieces)])
    assert list(folder.iterdir()) == []  # neither the draft nor its temporary file
    filler.unlink()
    write_pieces_atomic(str(folder), [("d.eml", pieces)])
    assert (folder / "d.eml").read_bytes() == b"".join(pieces)
    assert stat.S_IMODE((folder / "d.eml").stat().st_mode) == 0o600


def test_a_file_of_more_pieces_than_one_writev_takes_is_written_whole(tmp_path):
    pieces = [bytes([65 + n % 26]) * (n % 7) for n in range(3000)]
    write_pieces_atomic(str(tmp_path / "outbox"), [("many.eml", pieces), ("one.eml", [b"x"])])
    assert (tmp_path / "outbox" / "many.eml").read_bytes() == b"".join(pieces)
    assert (tmp_path / "outbox" / "one.eml").read_bytes() == b"x"
    assert [p.name for p in (tmp_path / "outbox").iterdir() if p.name.startswith(".")] == []


def test_a_killed_bcc_run_resumed_as_eml_reaches_everyone_once(sample_project, tmp_path):
    """Bcc batch names depend on the run, so only the ledger's pending step and the
    recovery keep a half-recorded batch from being sent twice after a change of mode."""
    rows = many(3000)
    csv_path = write_csv(tmp_path / "s.csv", rows)
    out = tmp_path / "out"
    outbox = out / ISSUE_DIR / "outbox"
    for delay in (0.3, 0.6, 0.9):
        process = start_emit(sample_project.root, csv_path, out, "--mode", "bcc",
                             "--batch-size", "3")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    done = resume(sample_project.root, csv_path, out, "--mode", "eml")
    assert done.returncode == 0, done.stderr
    assert sorted(recipients(outbox)) == sorted(address for address, _ in rows)


def test_an_interrupted_force_run_is_finished_by_running_it_again(sample_project, tmp_path):
    rows = many(3000)
    csv_path = write_csv(tmp_path / "s.csv", rows)
    out = tmp_path / "out"
    outbox = out / ISSUE_DIR / "outbox"
    assert resume(sample_project.root, csv_path, out).returncode == 0
    process = start_emit(sample_project.root, csv_path, out, "--force")
    # Killed once it has moved the first earlier drafts aside, well before it is done
    # (a fixed delay let a fast run finish first).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and \
            not any((out / ISSUE_DIR).glob("replaced-*/*.eml")):
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    plain = resume(sample_project.root, csv_path, out)
    assert plain.returncode == 1
    assert "an earlier --force run of this issue was interrupted" in plain.stderr
    done = resume(sample_project.root, csv_path, out, "--force")
    assert done.returncode == 0, done.stderr
    assert sorted(recipients(outbox)) == sorted(address for address, _ in rows)
    moved = [p for folder in (out / ISSUE_DIR).glob("replaced-*") for p in folder.glob("*.eml")]
    assert len(moved) == len(rows)  # every first-run draft moved aside once, none lost


def test_a_mailto_run_interrupted_after_writing_is_redone_without_a_stale_page(
        sample_project, tmp_path):
    import sqlite3

    csv_path = write_csv(tmp_path / "s.csv", many(3))
    out = tmp_path / "out"
    assert resume(sample_project.root, csv_path, out, "--mode", "mailto").returncode == 0
    folder = out / ISSUE_DIR
    # The state a kill between writing the files and recording them done leaves behind.
    db = sqlite3.connect(folder / "ledger.sqlite3")
    db.execute("UPDATE emitted SET state = 'pending'")
    db.commit()
    db.close()
    done = resume(sample_project.root, csv_path, out, "--mode", "mailto")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("mailto")) == [
        "mailto.html", "mailto.txt"]
