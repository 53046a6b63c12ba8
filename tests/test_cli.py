"""`python send.py build` as an editor uses it: what it prints, writes and refuses."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import REPO, chunk_file, issue_file, run_send_py

from newsletter.cli import cli


def test_build_without_an_issue_builds_the_latest_by_number(project):
    project.write("digests/010-later.yaml", issue_file(number=10))
    project.write("digests/002-middle.yaml", issue_file(number=2))
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in project.out.iterdir()] == ["010-later"]


def test_build_by_number_and_by_id(project):
    project.write("digests/002-second.yaml", issue_file(number=2))
    assert project.run("build", "1").exit_code == 0
    assert project.run("build", "002-second").exit_code == 0
    assert sorted(p.name for p in project.out.iterdir()) == ["001-first", "002-second"]


def test_build_prints_one_line_per_file_with_its_size(project):
    result = project.run("build")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ("email.html", "email.txt", "email.eml"), strict=True):
        match = re.fullmatch(r"wrote (\S+)\s+([\d.]+) (KB|B)", line)
        assert match and match.group(1).endswith(f"001-first/{name}"), line
        size = (project.out / "001-first" / name).stat().st_size
        shown = float(match.group(2)) * (1000 if match.group(3) == "KB" else 1)
        assert abs(shown - size) < 100


def test_out_option_chooses_the_folder(project, tmp_path):
    result = project.run("build", "--out", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0
    assert (tmp_path / "elsewhere" / "001-first" / "email.eml").exists()
    assert not project.out.exists()


def test_unknown_issue_is_one_error_line_listing_the_issues(project):
    result = project.run("build", "7")
    assert result.exit_code == 1
    assert result.errors == ["Error: no issue '7' (hint: name one by number or id: 1 (001-first))"]
    assert not project.out.exists()


def test_no_issues_at_all(project):
    (project.root / "digests" / "001-first.yaml").unlink()
    result = project.run("build")
    assert result.exit_code == 1
    assert result.errors[0].startswith("Error: there are no issues in digests/")


def test_warns_when_the_html_would_be_clipped_by_gmail(project):
    ids = [f"chunk-{n:02d}" for n in range(40)]
    for chunk_id in ids:
        project.write(f"content/{chunk_id}.md", chunk_file(chunk_id, summary="word " * 80))
    project.write("digests/001-first.yaml", issue_file(chunks=tuple(ids)))
    result = project.run("build")
    assert result.exit_code == 0
    size = (project.out / "001-first" / "email.html").stat().st_size
    assert size > 102_000
    assert re.search(r"Warning: email\.html is [\d.]+ KB: Gmail clips HTML over 102 KB",
                     result.stderr)


def test_no_warning_for_a_normal_issue(sample_project):
    result = sample_project.run("build")
    assert result.exit_code == 0
    assert "Warning" not in result.stderr


def test_an_unwritable_output_folder_is_an_error_and_writes_nothing(project):
    blocker = project.root / "not-a-folder"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    result = project.run("build", "--out", str(blocker / "out"))
    assert result.exit_code == 1
    assert len(result.errors) == 1 and "cannot write" in result.errors[0]
    assert blocker.read_text(encoding="utf-8").startswith("a file")


def test_rebuilding_replaces_files_and_leaves_no_temporary_files(project):
    assert project.run("build").exit_code == 0
    assert project.run("build").exit_code == 0
    assert sorted(p.name for p in (project.out / "001-first").iterdir()) == [
        "email.eml", "email.html", "email.txt"]


def test_a_failed_build_keeps_the_previous_output(project):
    assert project.run("build").exit_code == 0
    before = (project.out / "001-first" / "email.html").read_bytes()
    project.write("content/alpha.md", chunk_file("alpha", kind="poem"))
    assert project.run("build").exit_code == 1
    assert (project.out / "001-first" / "email.html").read_bytes() == before


def test_send_py_as_a_process_reports_errors_without_a_traceback(project):
    project.write("content/alpha.md", "no front matter here\n")
    done = run_send_py("--project", str(project.root), "build", cwd=project.root)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Error: content/alpha.md:1: has no front matter (hint: start the file with a '---' line, "
        "the fields, and another '---' line)",
        "Error: digests/001-first.yaml:8: chunks[0].id: chunk 'alpha' has errors of its own "
        "(hint: fix content/alpha.md first)"]


def test_send_py_builds_the_sample_from_the_repository_folder(tmp_path):
    done = run_send_py("build", "--out", str(tmp_path), cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "002-parts-that-help/email.html" in done.stdout
    assert (tmp_path / "002-parts-that-help" / "email.eml").exists()


def test_every_command_has_help(project):
    import click

    from newsletter.cli import cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert names[:4] == ["new", "status", "check", "build"] and "subscribers" in names
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, f"{name} has no help text"
        result = project.run(name, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


# --- a bad option value is one Error line with a hint, exit 1 (commands/base.py) -------------

def test_out_naming_a_file_is_one_error_line(project):
    target = project.root / "newsletter.yaml"
    result = project.run("build", "--out", str(target))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"Error: --out: directory '{target}' is a file (hint: give a folder, not a file; a "
        "missing folder is created)"]


def test_subscribers_naming_a_missing_file_or_a_folder_is_one_error_line(project):
    missing, folder = project.root / "nope.csv", project.root / "content"
    result = project.run("emit", "1", "--subscribers", str(missing))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"Error: --subscribers: file '{missing}' does not exist (hint: give the path of an "
        "existing file, not a folder)"]
    result = project.run("emit", "1", "--subscribers", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: --subscribers: file '{folder}' is a directory (hint: give the path of an "
        "existing file, not a folder)"]
    assert not project.out.exists()


def test_a_port_out_of_range_is_one_error_line(project):
    result = project.run("preview", "--port", "99999")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: --port: 99999 is not in the range 0<=x<=65535 (hint: give a whole number from 0 "
        "to 65535)"]


@pytest.mark.parametrize(("args", "line"), [
    (("new", "--date", "2026-13-01"), "Error: --date: '2026-13-01' does not match the format "
     "'%Y-%m-%d' (hint: write the date as YYYY-MM-DD)"),
    (("emit", "1", "--mode", "fax"), "Error: --mode: 'fax' is not one of 'eml', 'bcc', 'mailto', "
     "'smtp' (hint: choose one of eml, bcc, mailto, smtp)"),
    (("--project", "nowhere", "build"), "Error: --project: directory 'nowhere' does not exist "
     "(hint: give an existing folder)"),
])
def test_every_command_and_the_group_word_bad_values_the_same_way(project, args, line):
    result = CliRunner().invoke(cli, args if args[0] == "--project"
                                else ["--project", str(project.root), *args])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [line]


def test_a_real_usage_error_keeps_clicks_usage_text_and_exit_2(project):
    unknown = project.run("build", "--bogus")
    missing = project.run("emit")
    for result in (unknown, missing):
        assert result.exit_code == 2
        assert result.stderr.startswith("Usage: ") and "Try '" in result.stderr
    assert "Error: No such option '--bogus'" in unknown.stderr
    assert "Error: Missing argument 'ISSUE'." in missing.stderr
