"""README's console examples, run: what README shows a command printing is what it prints.

Every ```console block in README.md is an example. Its `$ ` lines are run in order, in one copy
of the sample project, through the real CLI with the clock fixed; what each prints (stdout and
stderr, interleaved as a terminal shows them) must be the lines under it. A line `...` stands
for any lines. An HTML comment right above a block names the scenario it runs in
(`<!-- readme-example: NAME -->`, defined in SCENARIOS below) or says why it is not run
(`<!-- readme-example: not run: REASON -->`). A `# comment` after a command names a step
(STEPS below) done just before it.

After a deliberate change of output: `pytest tests/test_readme.py --update-readme` rewrites the
blocks with what the commands print now; review the diff.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import signup_mail as mail
from click.testing import CliRunner
from conftest import REPO

from newsletter.cli import cli

README = REPO / "README.md"
PROGRAM = [".venv/bin/python", "send.py"]
# The day README's examples happen: issue 2 (2026-11-17) is 11 days old, issue 3 not yet due.
README_NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
DIRECTIVE = re.compile(r"<!--\s*readme-example:\s*(.*?)\s*-->")


@dataclass
class Example:
    line: int                       # of the ```console line in README.md
    scenario: str                   # a key of SCENARIOS, or "not run: ..."
    start: int                      # first and last+1 index of the block's lines in README
    end: int
    commands: list[tuple[str, list[str]]] = field(default_factory=list)  # (command, expected)

    @property
    def id(self) -> str:
        first = self.commands[0][0] if self.commands else ""
        return f"README.md:{self.line}: {first.removeprefix('.venv/bin/python send.py ')}"


def examples(text: str) -> list[Example]:
    lines = text.split("\n")
    found = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        above = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        directive = DIRECTIVE.search(above)
        start = index + 1
        end = next(i for i in range(start, len(lines)) if lines[i].strip() == "```")
        example = Example(index + 1, directive.group(1) if directive else "sample", start, end)
        for row in lines[start:end]:
            if row.startswith("$ "):
                example.commands.append((row[2:], []))
            elif example.commands:
                example.commands[-1][1].append(row)
        for _, expected in example.commands:
            while expected and not expected[-1].strip():
                expected.pop()
        found.append(example)
        index = end + 1
    return found


# -- scenarios: the project each block runs in ------------------------------------------------

def sample(root: Path) -> None:
    for name in ("content", "digests", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")


def broken_chunk(root: Path) -> None:
    sample(root)
    chunk = root / "content" / "ifs-protectors-and-exiles.md"
    text = chunk.read_text(encoding="utf-8")
    text = text.replace("kind: framework-deep-dive", "kind: deep-dive")
    text = text.replace("url: https://", "url: http://")
    chunk.write_text(text, encoding="utf-8")


def archive_with_a_later_issue(root: Path) -> None:
    sample(root)
    issue = (root / "digests" / "002-parts-that-help.yaml").read_text(encoding="utf-8")
    issue = re.sub(r"(?m)^number: 2$", "number: 3", issue)
    issue = re.sub(r"(?m)^date: 2026-11-17$", "date: 2026-12-08", issue)
    (root / "digests" / "003-next.yaml").write_text(issue, encoding="utf-8")


def subscribers_csv(root: Path) -> None:
    sample(root)
    (root / "subscribers.csv").write_text(
        "email,name\nann@example.com,Ann Lee\nbob@example.org,Bob\nANN@example.com,Ann again\n"
        "not-an-address,Nobody\n", encoding="utf-8")


def signup_mailbox(root: Path) -> None:
    sample(root)
    messages = [
        mail.iphone_plain(day=2), mail.thunderbird_encoded_name(), mail.outlook_html_only(),
        mail.iphone_plain("kim@example.com", "Kim", day=4), mail.gmail_reply_quoting_digest(),
        mail.iphone_plain("max@example.com", "Max", day=5), mail.spoofed_reply_to(),
        mail.out_of_office(), mail.vacation_reply_without_header(),
        mail.iphone_plain("gone@example.org", "Gone", day=1), mail.missing_from(),
        mail.dsn_bounce(), mail.bad_charset_subject(),
        mail.iphone_plain("kim@example.com", "Kim", day=12, subject=mail.UNSUBSCRIBE,
                          body=mail.UNSUBSCRIBE_BODY)]
    box = mailbox.mbox(root / "signups.mbox")
    for data in messages:
        box.add(data)
    box.close()


def review_queue(root: Path) -> None:
    """Mail the importer holds for the editor (issue 14): an unclear subscribe, a stranger
    naming two subscribers, a Date from 1970; and a reply asking to leave, honoured."""
    sample(root)
    messages = [
        mail.iphone_plain(day=2), mail.iphone_plain("kim@example.com", "Kim", day=4),
        mail.iphone_plain("uli@example.de", "Uli", day=6, subject="Anmeldung \u2013 subscribe",
                          body="bitte nehmt mich in den Verteiler auf. / Please subscribe me."),
        mail.gmail_reply("please stop sending these", address="kim@example.com", day=18),
        mail.iphone_plain("mallory@evil.example", "Mallory", day=19, subject=mail.UNSUBSCRIBE,
                          body=f"{mail.UNSUBSCRIBE_BODY}\n\nann@example.com\nkim@example.com"),
        mail.iphone_plain("bo@example.org", "Bo", day=20).replace(
            mail.when(20).encode(), b"Thu, 01 Jan 1970 00:00:00 +0000")]
    box = mailbox.mbox(root / "signups.mbox")
    for data in messages:
        box.add(data)
    box.close()


def discreet_signups(root: Path) -> None:
    """Discreet mode (issue 15): a discreet subscribe, a reader who switches, one who switches
    twice, and a switch from someone not on the list."""
    sample(root)
    messages = [
        mail.discreet_subscribe(day=2), mail.iphone_plain("kim@example.com", "Kim", day=3),
        mail.iphone_plain("max@example.com", "Max", day=4), mail.switch("kim@example.com", "Kim",
                                                                        day=6),
        mail.switch("max@example.com", "Max", day=7), mail.switch("max@example.com", "Max", day=9),
        mail.switch("lou@example.org", "Lou", day=8)]
    box = mailbox.mbox(root / "signups.mbox")
    for data in messages:
        box.add(data)
    box.close()


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "sample": sample, "broken-chunk": broken_chunk,
    "archive-with-a-later-issue": archive_with_a_later_issue,
    "subscribers-csv": subscribers_csv, "signup-mailbox": signup_mailbox,
    "review-queue": review_queue, "discreet-signups": discreet_signups,
}

# Steps named by a `# comment` after a command, done just before it runs.
STEPS: dict[str, Callable[[Path], None]] = {
    "after removing digests/001-slow-change.yaml":
        lambda root: (root / "digests" / "001-slow-change.yaml").unlink(),
}


# -- running them -----------------------------------------------------------------------------

def run(command: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One README command, run in `root` as an editor would type it; its output lines."""
    words, _, comment = command.partition("  #")
    if comment.strip():
        STEPS[comment.strip()](root)
    args = shlex.split(words)
    env = {}
    while args and re.fullmatch(r"[A-Z_]+=.*", args[0]):
        name, _, value = args.pop(0).partition("=")
        env[name] = value
    assert args[:2] == PROGRAM, f"README runs {command!r}, not {' '.join(PROGRAM)} ..."
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, args[2:], env=env, catch_exceptions=False)
    lines = result.output.rstrip("\n").split("\n") if result.output.strip() else []
    return [line.rstrip() for line in lines]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the lines match, `...` standing for any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


ALL = examples(README.read_text(encoding="utf-8"))
BROWSER = ("screenshot",)  # examples that start Chromium (left out of the moved-clock run)


def params():
    for example in ALL:
        marks = [pytest.mark.browser] if any(
            word in c for c, _ in example.commands for word in BROWSER) else []
        yield pytest.param(example, id=example.id, marks=marks)


def test_readme_has_console_examples_and_every_scenario_is_known():
    assert len(ALL) >= 8
    for example in ALL:
        assert example.commands, f"README.md:{example.line}: a console block with no `$ ` line"
        assert example.scenario in SCENARIOS or example.scenario.startswith("not run: "), \
            f"README.md:{example.line}: unknown scenario {example.scenario!r}"


@pytest.mark.parametrize("example", list(params()))
def test_readme_example_prints_what_readme_shows(example, tmp_path, monkeypatch, clock,
                                                  request):
    if example.scenario.startswith("not run: "):
        pytest.skip(example.scenario)
    clock.set(README_NOW)
    root = tmp_path / "project"
    root.mkdir()
    SCENARIOS[example.scenario](root)
    shown = []
    for command, expected in example.commands:
        actual = run(command, root, monkeypatch)
        if request.config.getoption("--update-readme"):
            shown.append((command, expected if matches(expected, actual) else actual))
            continue
        assert matches(expected, actual), (
            f"README.md:{example.line}: `{command}` prints\n" + "\n".join(actual)
            + "\n\nREADME shows\n" + "\n".join(expected)
            + "\n\n(after a deliberate change: pytest tests/test_readme.py --update-readme)")
    if shown:
        _rewrite(example, shown)


def _rewrite(example: Example, shown: list[tuple[str, list[str]]]) -> None:
    """Put what the commands print now into README's block (by its place, found again)."""
    lines = README.read_text(encoding="utf-8").split("\n")
    # By its place among the blocks: a block rewritten before it may have moved its line.
    current = examples("\n".join(lines))[ALL.index(example)]
    body = []
    for command, output in shown:
        if body:
            body.append("")
        body += [f"$ {command}", *output]
    lines[current.start:current.end] = body
    README.write_text("\n".join(lines), encoding="utf-8")
