"""Emit modes are a registry: a mode registered from outside runs with no edit to the core."""

from __future__ import annotations

import sqlite3
from typing import ClassVar

import pytest
from test_emit import ISSUE_DIR, emit, many, write_csv

from newsletter.emit import modes
from newsletter.emit.context import BaseMode, IssueContext
from newsletter.emit.ledger import LEDGER_FILE, Entry
from newsletter.emit.run import emit_issue
from newsletter.errors import NewsletterError
from newsletter.mail.mailto import CONFIG_CHECKS
from newsletter.source.models import Subscriber
from newsletter.source.project import load_project
from newsletter.subscribers.addresses import address_key
from newsletter.subscribers.lists import CsvList


class FakeMode(BaseMode):
    """Writes nothing: records whom it was given, and tells the ledger."""

    name = "fake"
    help = "records the subscribers it is given"
    given: ClassVar[list[str]] = []

    def add(self, subscribers: list[Subscriber]) -> None:
        entries = [Entry(address_key(s.email), s.email, self.name, "fake", None)
                   for s in subscribers]
        self.context.ledger.begin(entries, self.context.run)
        FakeMode.given += [s.email for s in subscribers]
        self.context.ledger.finish(entries)
        self.emitted += len(entries)

    def close(self) -> list[str]:
        return [f"fake: {self.emitted} recorded"]


class Unconfigured(BaseMode):
    name = "unconfigured"
    help = "needs a setting nobody has"
    disabled_message = "newsletter.yaml has no unconfigured: section"

    @classmethod
    def enabled(cls, config) -> bool:
        return False


class BrokenPrepare(BaseMode):
    name = "broken"
    help = "fails before the folder is touched"

    @classmethod
    def prepare(cls, issue: IssueContext) -> None:
        raise NewsletterError("cannot prepare", "nothing to do")


@pytest.fixture
def registered():
    FakeMode.given = []
    for mode in (FakeMode, Unconfigured, BrokenPrepare):
        modes.register(mode)
    yield
    for mode in (FakeMode, Unconfigured, BrokenPrepare):
        del modes.MODES[mode.name]


def ledger_rows(project) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(project.out / ISSUE_DIR / LEDGER_FILE)
    try:
        return db.execute("SELECT address, mode, state FROM emitted ORDER BY address").fetchall()
    finally:
        db.close()


def test_a_registered_mode_runs_through_the_cli_once_per_subscriber(sample_project, tmp_path,
                                                                    registered):
    rows = many(3) + [("reader1@example.org", "Again"), ("bad", "")]
    csv_path = write_csv(tmp_path / "s.csv", rows)
    result = emit(sample_project, csv_path, "--mode", "fake")
    assert result.exit_code == 0, result.stderr
    assert FakeMode.given == [f"reader{i}@example.org" for i in range(3)]
    assert "to 3 subscriber(s) (fake)" in result.stdout
    assert "fake: 3 recorded" in result.stdout
    assert ledger_rows(sample_project) == [(f"reader{i}@example.org", "fake", "done")
                                           for i in range(3)]
    assert not (sample_project.out / ISSUE_DIR / "outbox").exists()

    again = emit(sample_project, csv_path, "--mode", "fake")
    assert again.exit_code == 0, again.stderr
    assert FakeMode.given == [f"reader{i}@example.org" for i in range(3)]
    assert "3 subscriber(s) already had this issue" in again.stdout


def test_a_registered_mode_runs_through_emit_issue(sample_project, tmp_path, registered):
    project = load_project(sample_project.root, CONFIG_CHECKS)
    recipients = CsvList(write_csv(tmp_path / "s.csv", many(600)))
    report = emit_issue(project, "2", mode="fake", recipients=recipients,
                        out_dir=sample_project.out)
    assert report.emitted == 600 and report.mode == "fake"
    assert sorted(FakeMode.given) == sorted(email for email, _ in many(600))
    # the ledger is shared by every mode: eml then skips whom the fake mode recorded
    more = CsvList(write_csv(tmp_path / "more.csv", many(601)))
    report = emit_issue(project, "2", mode="eml", recipients=more, out_dir=sample_project.out)
    assert (report.emitted, report.already) == (1, 600)


def test_the_help_and_the_choices_come_from_the_registry(sample_project, registered):
    result = sample_project.run("emit", "--help")
    assert "fake: records the subscribers it is given" in " ".join(result.stdout.split())
    assert "[eml|bcc|mailto|smtp|fake|unconfigured|broken]" in result.stdout


def test_a_disabled_mode_is_refused_with_its_message(sample_project, tmp_path, registered):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(2)), "--mode",
                  "unconfigured")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --mode unconfigured cannot be used: newsletter.yaml "
                                    "has no unconfigured: section (hint: fix that, or use one "
                                    "of: eml, bcc, mailto, fake, broken)")
    assert not sample_project.out.exists()


def test_prepare_fails_before_the_folder_is_touched(sample_project, tmp_path, registered):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(2)), "--mode", "broken")
    assert result.exit_code == 1
    assert "Error: cannot prepare" in result.stderr
    assert not sample_project.out.exists()


def test_the_registry_refuses_a_name_twice_and_names_the_modes():
    with pytest.raises(ValueError, match="'eml' is registered already"):
        modes.register(type("Again", (BaseMode,), {"name": "eml", "help": "again"}))
    with pytest.raises(NewsletterError, match="unknown mode 'pigeon'"):
        modes.mode_class("pigeon", None)
    assert list(modes.MODES)[:3] == ["eml", "bcc", "mailto"]
