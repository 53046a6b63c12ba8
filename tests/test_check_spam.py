"""The spam rule of `check`: SpamAssassin run for real, and its output read exactly.

The real runs need Debian's spamassassin package (scripts/setup --test installs it); their
scores depend on the rules installed, so they check order and shape. Exact texts come from
a stand-in `spamassassin` that prints what the real one prints.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import FIXED_DATE

from newsletter.checks.spam import check_spam
from newsletter.mail.mailto import unsubscribe_link
from newsletter.mail.message import Envelope, build_review_message
from newsletter.render.renderer import Renderer
from newsletter.source.compose import find_issue
from newsletter.source.project import load_project

SCORE = re.compile(r"SpamAssassin score (-?\d+\.\d)")

# What `spamassassin -L -t` writes, cut down: our added header, then the report table.
CANNED = """\
X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on vm
X-Spam-Status: {flag}, score={score} required=5.0 tests=...
X-Spam-Mindshape-Tests: {tests}
From: Mindshape <team@mindshape.io>

Body.
Content analysis details:   ({score} points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
{table}
"""


@pytest.fixture
def real_spamassassin() -> None:
    assert shutil.which("spamassassin"), (
        "SpamAssassin is not installed: run scripts/setup --test (Debian package spamassassin)")


def fake_spamassassin(tmp_path: Path, monkeypatch, output: str, exit_code: int = 0) -> None:
    """Put a `spamassassin` first on PATH that reads stdin and prints `output`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "output").write_text(output, encoding="utf-8")
    script = folder / "spamassassin"
    script.write_text(f"#!/bin/sh\n/bin/cat >/dev/null\n/bin/cat '{folder / 'output'}'\n"
                      f"echo 'config: no rules were found!' >&2\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def sample_message(root: Path) -> bytes:
    """The review copy of sample issue 2, byte for byte the same on every run."""
    project = load_project(root)
    rendered = Renderer(project.root, project.config).render(
        find_issue(project.issues, "002-parts-that-help"))
    envelope = Envelope(to="team@mindshape.io", date=FIXED_DATE,
                        message_id="<spam-check@mindshape.io>", boundary="=_spam_check")
    return build_review_message(project.config, rendered, envelope,
                                unsubscribe_link(project.config))


def spammy_message() -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "WINNER NOTICE <team@mindshape.io>"
    message["To"] = "team@mindshape.io"
    message["Subject"] = "FREE MONEY!!! CLICK HERE NOW $$$"
    message["Date"] = "Tue, 17 Nov 2026 07:30:00 +0000"
    message["Message-ID"] = "<spammy@mindshape.io>"
    message.set_content(
        "Dear Friend,\n\nFREE!!! $$$ CLICK HERE to claim your CASH PRIZE now! 100% FREE, no "
        "risk, act now! Double your income, 100% guaranteed.\nhttp://192.0.2.1/claim?id=1\n"
        "To be removed from our mailing list click here.\n")
    message.add_alternative(
        "<html><body><p><b>FREE!!! $$$</b> <a href='http://192.0.2.1/claim'>CLICK HERE</a> to "
        "claim your CASH PRIZE!!! 100% guaranteed, no risk.</p></body></html>", subtype="html")
    return message.as_bytes()


def test_our_sample_issue_scores_low_for_real(real_spamassassin, sample_project):
    findings = check_spam(sample_message(sample_project.root))
    assert len(findings) == 1
    text = str(findings[0])
    assert re.fullmatch(
        r"note: email: SpamAssassin score -?\d\.\d \(rules: [A-Z0-9_]+ -?[\d.]+"
        r"(, [A-Z0-9_]+ -?[\d.]+)*\) \(hint: below 5\.0, where mail is marked as spam by "
        r"default; local tests only: receiving servers also check SPF, DKIM and "
        r"blocklists\)", text), text
    assert "HTML_MESSAGE 0.001" in text


def test_a_spammy_message_scores_higher_and_is_an_error_for_real(real_spamassassin,
                                                                 sample_project):
    clean = check_spam(sample_message(sample_project.root))[0]
    spammy = check_spam(spammy_message())[0]
    assert spammy.severity == "error", spammy
    assert float(SCORE.search(spammy.message)[1]) >= 5.0
    assert float(SCORE.search(spammy.message)[1]) > float(SCORE.search(clean.message)[1])
    assert "SUBJ_ALL_CAPS" in spammy.message
    assert spammy.hint.startswith("change what the highest-scoring rules flag: ")


def test_a_low_score_is_a_note_with_every_rule(tmp_path, monkeypatch):
    fake_spamassassin(tmp_path, monkeypatch, CANNED.format(
        flag="No", score="0.7",
        tests="HTML_FONT_LOW_CONTRAST=0.713,HTML_MESSAGE=0.001,\n\tNO_RECEIVED=-0.001",
        table=" 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar"))
    assert [str(f) for f in check_spam(b"Subject: x\r\n\r\nx\r\n")] == [
        "note: email: SpamAssassin score 0.7 (rules: HTML_FONT_LOW_CONTRAST 0.713, HTML_MESSAGE "
        "0.001, NO_RECEIVED -0.001) (hint: below 5.0, where mail is marked as spam by default; "
        "local tests only: receiving servers also check SPF, DKIM and blocklists)"]


def test_a_score_of_five_is_an_error_naming_the_worst_rules(tmp_path, monkeypatch):
    fake_spamassassin(tmp_path, monkeypatch, CANNED.format(
        flag="Yes", score="5.0",
        tests="SUBJ_ALL_CAPS=0.5,DEAR_FRIEND=2.683,\n\tRISK_FREE=1,NO_RELAYS=-0.001,"
              "GUARANTEED_100_PERCENT=0.818",
        table=" 2.7 DEAR_FRIEND            BODY: Dear Friend? That's not very dear!\n"
              " 1.0 RISK_FREE              No risk!\n"
              " 0.8 GUARANTEED_100_PERCENT BODY: One hundred percent\n"
              "                            guaranteed\n"
              " 0.5 SUBJ_ALL_CAPS          Subject is all capitals"))
    assert [str(f) for f in check_spam(b"Subject: x\r\n\r\nx\r\n")] == [
        "error: email: SpamAssassin score 5.0 is at or above 5.0, where mail is marked as spam by "
        "default (rules: DEAR_FRIEND 2.683, RISK_FREE 1, GUARANTEED_100_PERCENT 0.818, "
        "SUBJ_ALL_CAPS 0.5, NO_RELAYS -0.001) (hint: change what the highest-scoring rules "
        "flag: DEAR_FRIEND (BODY: Dear Friend? That's not very dear!); RISK_FREE (No risk!); "
        "GUARANTEED_100_PERCENT (BODY: One hundred percent guaranteed))"]


def test_spamassassin_failing_is_a_warning(tmp_path, monkeypatch):
    fake_spamassassin(tmp_path, monkeypatch, "", exit_code=2)
    assert [str(f) for f in check_spam(b"Subject: x\r\n\r\nx\r\n")] == [
        "warning: email: SpamAssassin gave no score (exit 2: config: no rules were found!) "
        "(hint: run `spamassassin -L -t < out/ISSUE/email.eml` to see why; if it says no rules "
        "were found, run `sudo sa-update` or reinstall the spamassassin package)"]


def test_not_installed_is_a_note_not_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert [str(f) for f in check_spam(b"Subject: x\r\n\r\nx\r\n")] == [
        "note: email: SpamAssassin is not installed: no spam score (hint: to get one, install "
        "it (Debian and Ubuntu: sudo apt-get install spamassassin); it runs offline with the "
        "rules it ships)"]
