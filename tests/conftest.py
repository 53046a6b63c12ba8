"""Shared fixtures: small projects built inline, the CLI run as an editor runs it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import hypothesis
import pytest
from click.testing import CliRunner

from newsletter.cli import cli

REPO = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="Rewrite tests/golden/ from the current output instead of comparing.")
    parser.addoption("--update-readme", action="store_true",
                     help="Rewrite README's console examples with what the commands print now.")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start Chromium are marked `browser` (the moved-clock run leaves them out)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


CHUNK = """\
---
title: "{title}"
kind: {kind}
date: 2026-11-01
url: https://mindshape.io/{id}
summary: >-
  {summary}
tags: [attachment]
{extra}---
Body of {id}.
"""


def chunk_file(id: str, *, title: str | None = None, kind: str = "guide",
               summary: str = "A short teaser for the piece.", extra: str = "") -> str:
    """The text of a valid chunk file; `extra` is added as front-matter lines."""
    return CHUNK.format(id=id, title=title or f"Title of {id}", kind=kind, summary=summary,
                        extra=extra)


def issue_file(number: int = 1, chunks: tuple[str, ...] = ("alpha",), *,
               subject: str = "A calm subject line", date: str = "2026-11-17",
               extra: str = "") -> str:
    listed = "\n".join(f"  - id: {c}" for c in chunks)
    return (f"number: {number}\ndate: {date}\nsubject: \"{subject}\"\n"
            f"preheader: \"A preheader that says a little more.\"\n"
            f"intro: |\n  Hello from the editors.\nchunks:\n{listed}\n{extra}")


class Project:
    """A project folder in tmp_path: the repo's config and templates, plus given files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
        return path

    def run(self, *args: str) -> CliResult:
        """Run send.py in-process with --project pointing here; output dir defaults to root/out."""
        result = CliRunner().invoke(cli, ["--project", str(self.root), *args],
                                    catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    @property
    def out(self) -> Path:
        return self.root / "out"


class CliResult:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Error: ")]


# Hypothesis explores new inputs on every local run (what it finds is kept in .hypothesis/ and
# pinned as an @example); on CI (CI=true) it runs a fixed sequence, so a landing cannot hinge
# on a lucky draw.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

# The suite's "now": every clock read in the library goes through newsletter.clock, which
# takes this from NEWSLETTER_NOW, so no outcome depends on the day the suite runs (CI runs it a
# second time with the machine's clock moved years ahead to prove it). After every fixture date.
NOW = dt.datetime(2026, 12, 15, 12, 0, tzinfo=dt.UTC)


class Clock:
    """The time the library sees; `set` moves it (subprocesses inherit it through the env)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.set(NOW)

    def set(self, moment: dt.datetime) -> None:
        self.now = moment
        self._monkeypatch.setenv("NEWSLETTER_NOW", moment.isoformat())

    def advance(self, **delta: float) -> dt.datetime:
        self.set(self.now + dt.timedelta(**delta))
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the store in their own project folder, never one the machine points at."""
    monkeypatch.delenv("NEWSLETTER_STORE", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A minimal valid project: the real config and templates, one chunk, one issue."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    shutil.copytree(REPO / "templates", root / "templates")
    proj = Project(root)
    proj.write("content/alpha.md", chunk_file("alpha"))
    proj.write("digests/001-first.yaml", issue_file())
    return proj


@pytest.fixture
def sample_project(tmp_path: Path) -> Project:
    """A copy of the repository's own sample content, config and templates."""
    root = tmp_path / "sample"
    for name in ("content", "digests", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    return Project(root)


def run_send_py(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python send.py ...` as a separate process, as an editor would."""
    return subprocess.run([sys.executable, str(REPO / "send.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


FIXED_DATE = dt.datetime(2026, 11, 17, 7, 30, tzinfo=dt.UTC)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, launched the way `send.py screenshot` launches it."""
    from playwright import sync_api as playwright

    from newsletter.web.screenshot import CHROMIUM_ARGS

    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs: a disk that really fills up."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
            capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    yield disk
    # Lazily: a test that failed with a file still open there must not leave it mounted.
    subprocess.run(["umount", "--lazy", str(disk)], check=False)
