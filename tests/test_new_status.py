"""`new` and `status`: the next issue proposed within the cadence the site promises."""

from __future__ import annotations

import errno
import os
import re

import pytest
import yaml
from conftest import chunk_file, issue_file

from newsletter.output import create_atomic


def history(project) -> None:
    """Issue 1 on 2026-11-01 with alpha; unsent chunks of several kinds and dates."""
    project.write("digests/001-first.yaml", issue_file(date="2026-11-01"))
    for chunk_id, kind, date in [("beta", "guide", "2026-11-05"), ("gamma", "note", "2026-11-09"),
                                 ("delta", "guide", "2026-11-10"),
                                 ("epsilon", "research-breakdown", "2026-11-03"),
                                 ("zeta", "guide", "2026-12-30")]:
        project.write(f"content/{chunk_id}.md",
                      chunk_file(chunk_id, kind=kind).replace("date: 2026-11-01", f"date: {date}"))


def test_new_proposes_unsent_chunks_newest_first_mixing_kinds(project):
    history(project)
    result = project.run("new", "--date", "2026-11-20")
    assert result.exit_code == 0, result.stderr
    path = project.root / "digests" / "002-delta.yaml"
    assert result.stdout.splitlines()[0] == (
        f"wrote {path}: issue 2 of 2026-11-20, 4 chunk(s), lead 'delta'")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["number"] == 2 and str(data["date"]) == "2026-11-20"
    # Newest of each kind first (delta guide, gamma note, epsilon research), then the rest;
    # zeta is dated after the issue and alpha was in issue 1.
    assert [c["id"] for c in data["chunks"]] == ["delta", "gamma", "epsilon", "beta"]
    assert data["subject"] == "Title of delta"
    assert data["preheader"] == "A short teaser for the piece."
    assert data["intro"].startswith("Write the intro here")


def test_an_issue_dated_later_is_not_called_days_ago_and_an_earlier_date_is_before(project):
    history(project)
    assert project.run("new", "--date", "2099-01-10").exit_code == 0
    status = project.run("status")
    assert re.search(r"^Last issue: 2 \(002-zeta\), dated 2099-01-10, in \d+ day\(s\): not "
                     r"sent yet\.$", status.stdout, re.M), status.stdout
    for args in ([], ["--force"]):  # never out of order, even forced
        early = project.run("new", "--date", "2099-01-03", *args)
        assert early.exit_code == 1
        assert early.errors[0].startswith(
            "Error: 2099-01-03 is 7 day(s) before issue 2 (2099-01-10): issues go out in the "
            "order of their numbers")
    assert len(list((project.root / "digests").glob("*.yaml"))) == 2


def test_a_chunk_with_a_content_warning_never_gives_the_subject_or_preheader(project):
    """The inbox list shows both before any content warning: the lead is a chunk without one."""
    history(project)
    project.write("content/delta.md", chunk_file(
        "delta", title="When self-harm urges return", summary="Self-harm urges often come "
        "back with shame.", extra='content_warning: "Mentions self-harm."\n').replace(
        "date: 2026-11-01", "date: 2026-11-10"))
    result = project.run("new", "--date", "2026-11-20")
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load((project.root / "digests" / "002-gamma.yaml").read_text("utf-8"))
    assert data["subject"] == "Title of gamma"
    assert "self-harm" not in (data["subject"] + data["preheader"]).lower()
    assert [c["id"] for c in data["chunks"]] == ["gamma", "delta", "epsilon", "beta"]
    assert (project.root / "digests" / "002-gamma.yaml").stat().st_mode & 0o777 == 0o644


def test_when_every_chunk_has_a_content_warning_the_subject_is_neutral(project):
    project.write("digests/001-first.yaml", issue_file(date="2026-11-01"))
    project.write("content/beta.md", chunk_file(
        "beta", title="Suicidal thoughts: what helps", extra='content_warning: "Mentions '
        'suicide."\n').replace("date: 2026-11-01", "date: 2026-11-05"))
    proposed = project.run("new", "--date", "2026-11-20")
    assert proposed.exit_code == 0
    assert "no lead: every chunk has a content warning" in proposed.stdout
    data = yaml.safe_load((project.root / "digests" / "002-beta.yaml").read_text("utf-8"))
    assert data["subject"] == "Mindshape: new reading"
    assert "suicid" not in data["preheader"].lower()
    result = project.run("check", "2")
    assert "the subject says" not in result.stdout and "the preheader says" not in result.stdout


def test_new_refuses_a_date_too_soon_unless_forced(project):
    history(project)
    result = project.run("new", "--date", "2026-11-10")
    assert result.exit_code == 1
    assert result.errors == [
        "Error: 2026-11-10 is 9 day(s) after issue 1 (2026-11-01); the site promises at least 14 "
        "days between issues (hint: the next issue is due from 2026-11-15 to 2026-11-29; "
        "--force overrides)"]
    assert not list((project.root / "digests").glob("002-*"))
    assert project.run("new", "--date", "2026-11-10", "--force").exit_code == 0


def test_a_second_new_counts_the_cadence_from_the_proposed_issue(project):
    history(project)
    assert project.run("new", "--date", "2026-11-20").exit_code == 0
    again = project.run("new", "--date", "2026-11-20")
    assert again.exit_code == 1
    assert again.errors[0].startswith("Error: 2026-11-20 is 0 day(s) after issue 2 (2026-11-20)")
    assert len(list((project.root / "digests").glob("*.yaml"))) == 2


def test_new_caps_the_number_of_chunks(project):
    history(project)
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("max_chunks: 5", "max_chunks: 2"),
                      encoding="utf-8")
    project.run("new", "--date", "2026-11-20")
    data = yaml.safe_load((project.root / "digests" / "002-delta.yaml").read_text("utf-8"))
    assert [c["id"] for c in data["chunks"]] == ["delta", "gamma"]


def test_the_proposed_issue_fails_check_until_the_intro_is_written(project):
    history(project)
    project.run("new", "--date", "2026-11-20")
    result = project.run("check", "2")
    assert result.exit_code == 1
    assert re.search(r"^error: .*002-delta\.yaml:\d+: the intro is still the placeholder `new` "
                     r"wrote \(hint: write the intro\)$", result.stdout, re.M)


def test_status_shows_the_window_and_unsent_chunks(project):
    history(project)
    result = project.run("status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Last issue: 1 (001-first), dated 2026-11-01, ")
    assert lines[1].startswith("Next issue: ")
    assert "Unsent chunks: 5" in lines
    assert "  Guide: zeta, delta, beta" in lines
    assert lines[-1] == "Subscribers: no store yet (send.py subscribers import SOURCE)."


def test_status_says_when_the_next_issue_is_overdue(project):
    project.write("digests/001-first.yaml", issue_file(date="2020-01-01"))
    line = project.run("status").stdout.splitlines()[1]
    assert re.fullmatch(r"Next issue: overdue by \d+ day\(s\): it was due by 2020-01-29\.", line)


def test_the_file_new_writes_never_replaces_one_saved_under_its_name(tmp_path):
    """Even one saved between the check and the write: the name is taken with link(2)."""
    path = tmp_path / "digests" / "002-delta.yaml"
    path.parent.mkdir()
    path.write_text("the editor's own issue\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        create_atomic(path, b"number: 2\n")
    assert path.read_text(encoding="utf-8") == "the editor's own issue\n"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_on_a_file_system_without_hard_links_new_still_writes_and_never_replaces(
        tmp_path, monkeypatch):
    """FAT or a network share refuses link(2) (EPERM). No such file system can be mounted
    here, so link is made to fail as they make it fail."""
    def no_hard_links(*_args, **_kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    path = tmp_path / "digests" / "002-delta.yaml"
    create_atomic(path, b"number: 2\n")
    assert path.read_bytes() == b"number: 2\n"
    with pytest.raises(FileExistsError):
        create_atomic(path, b"number: 3\n")
    assert path.read_bytes() == b"number: 2\n"
    assert list(path.parent.iterdir()) == [path]
