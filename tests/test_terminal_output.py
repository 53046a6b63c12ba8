"""What commands print never steers the terminal: control and bidi characters show escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import signup_mail as mail
from conftest import REPO

from newsletter.commands import terminal
from newsletter.commands.terminal import escape

ESC_BEL_SUBJECT = "=?utf-8?q?Hi_=1B]0;pwned=07?="           # sets the terminal's title
RLO_NAME = "=?utf-8?q?Ann_=E2=80=AEeil?="                   # "Ann " + RLO + "eil"
# Anything a terminal would obey, or that reorders what it shows.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def import_mbox(project, messages: list[bytes]):
    path = mail.write_mbox(project.root / "signups.mbox", messages)
    result = project.run("subscribers", "import", str(path))
    assert result.exit_code == 0, result.stderr
    return result


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"), ("a\rb\tc\nd", "a\\rb\\tc\\nd"),
    ("\x7f\x85\x9b\x00", "\\x7f\\x85\\x9b\\x00"),
    ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
     "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
])
def test_control_and_bidi_characters_are_escaped(raw, shown):
    assert escape(raw) == shown


def test_other_text_prints_as_it_is():
    text = "Zoë Müller, 李小龍, مرحبا, 😀, C:\\path, \u00a0non-breaking"
    assert escape(text) == text


def test_the_not_understood_line_shows_an_esc_bel_subject_escaped(project):
    result = import_mbox(project, [mail.iphone_plain(subject=ESC_BEL_SUBJECT, body="Hello.")])
    assert "1 not understood." in result.stdout
    line = next(line for line in result.stdout.splitlines() if "Hi " in line)
    assert "Hi \\x1b]0;pwned\\x07" in line
    assert not RAW.search(result.stdout + result.stderr)


def test_list_and_show_escape_a_bidi_override_in_a_name(project):
    import_mbox(project, [mail.iphone_plain(name=RLO_NAME),
                          mail.iphone_plain("zoe@example.de", "=?utf-8?q?Zo=C3=AB_=F0=9F=98=80?=",
                                            day=3)])
    listed = project.run("subscribers", "list")
    assert listed.exit_code == 0, listed.stderr
    assert re.search(r"ann@example\.com +Ann \\u202eeil +subscribed", listed.stdout)
    assert "Zoë 😀" in listed.stdout
    header, *rows, _ = listed.stdout.splitlines()
    assert {row.index("subscribed") for row in rows} == {header.index("status")}  # aligned
    shown = project.run("subscribers", "show", "ann@example.com")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "ann@example.com (Ann \\u202eeil)"
    assert not RAW.search(listed.stdout + shown.stdout)


def test_json_writes_bidi_controls_as_json_escapes_so_the_data_is_unchanged(project):
    import_mbox(project, [mail.iphone_plain(name=RLO_NAME, subject=ESC_BEL_SUBJECT)])
    result = project.run("subscribers", "list", "--format", "json")
    assert not RAW.search(result.stdout)
    assert '"Ann \\u202eeil"' in result.stdout
    assert json.loads(result.stdout)[0]["name"] == "Ann \u202eeil"


def test_csv_is_data_as_is_in_a_pipe_and_escaped_on_a_terminal(project, monkeypatch):
    import_mbox(project, [mail.iphone_plain(name=RLO_NAME)])
    piped = project.run("subscribers", "list", "--format", "csv")
    assert "ann@example.com,Ann \u202eeil," in piped.stdout
    monkeypatch.setattr(terminal, "_is_terminal", lambda: True)
    on_terminal = project.run("subscribers", "list", "--format", "csv")
    assert "ann@example.com,Ann \\u202eeil," in on_terminal.stdout
    assert not RAW.search(on_terminal.stdout)
    assert len(on_terminal.stdout.splitlines()) == len(piped.stdout.splitlines()) == 2


def test_an_error_line_carrying_a_hostile_path_is_escaped(project):
    blocker = project.root / "not\u202ea-folder\x1b[2J"
    blocker.write_text("a file where the output folder should be", encoding="utf-8")
    result = project.run("build", "--out", str(blocker / "out"))
    assert result.exit_code == 1
    assert len(result.errors) == 1 and "not\\u202ea-folder\\x1b[2J" in result.errors[0]
    assert not RAW.search(result.stderr)


def test_a_usage_error_keeps_clicks_text_with_the_argument_escaped(project):
    result = project.run("build", "1", "x\x1b]0;pwned\x07")  # click shows it raw by itself
    assert result.exit_code == 2 and result.stderr.startswith("Usage: ")
    assert "Error: Got unexpected extra argument (x\\x1b]0;pwned\\x07)" in result.stderr
    assert not RAW.search(result.stderr)


def test_commands_print_only_through_the_terminal_module():
    """A new `click.echo` in a command would print outside text raw."""
    folder = REPO / "newsletter" / "commands"
    offenders = [path.name for path in sorted(folder.glob("*.py"))
                 if path.name != "terminal.py"
                 and re.search(r"\bclick\.(echo|secho)\b|\bprint\(", path.read_text("utf-8"))]
    assert offenders == []
    assert "click.echo" not in Path(REPO / "newsletter" / "cli.py").read_text("utf-8")
