"""Discreet mode's words: what the inbox line may not show however it is spelled, and a
discreet subject template that can only be one neutral line.

A word hidden by an invisible character, written in fullwidth letters or split by a space or
a hyphen reads on a shared screen as plainly as the word itself; the issue's own subject
gives the email away without any word of the list; and a subject template that cannot render
is a config error with its line, never an internal error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import pytest
from conftest import REPO
from test_discreet_emit import line_of, set_discreet

from newsletter.mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from newsletter.mail.discreet import (
    DiscreetError,
    IssueFacts,
    discreet_subject,
    render_subject,
    revealing_word,
)
from newsletter.source.project import load_project


@functools.cache
def _config():
    return load_project(REPO).config


@pytest.mark.parametrize(("text", "word"), [
    ("Mind\u00adshape notes", "Mind\u00adshape"),  # a soft hyphen
    ("Mind\u200dshape", "Mind\u200dshape"),  # a zero-width joiner
    ("Notes from Mind\u200bshape", "Mind\u200bshape"),  # a zero-width space
    ("ＭＩＮＤＳＨＡＰＥ", "ＭＩＮＤＳＨＡＰＥ"),  # fullwidth
    ("Ａｎｘｉｅｔｙ notes", "Ａｎｘｉｅｔｙ"),
    ("Notes from mind shape", "mind shape"),
    ("Mind-shape · 2", "Mind-shape"),
    ("Mind.shape, Mind_shape", "Mind.shape"),
    ("Mind \u2013 Shape", "Mind \u2013 Shape"),  # an en dash, spaced
    ("The ﬁrst Ánxiety note", "Ánxiety"),  # an accent does not hide it either
    ("Attach\u00adment", "Attach\u00adment"),
    ("Nonattachment, gently", "Nonattachment"),
    ("On psychology", "psychology"),
    ("Ask a psychologist", "psychologist"),
    ("Notes on psychotherapy", "psychotherapy"),
    ("Trauma notes", "Trauma"),
    ("Traumatic weeks", "Traumatic"),
    ("After depression", "depression"),
    ("Feeling depressed", "depressed"),
    ("Mentalising", "Mentalising"),
    ("Two alerts", "alerts"),
    ("Gentle warnings", "warnings"),
    ("Sui\u00adcide", "Sui\u00adcide"),
])
def test_a_hidden_or_near_word_is_found_as_written(text, word):
    assert revealing_word(text, _config()) == word


@pytest.mark.parametrize("text", [
    "Skills", "Diet", "Fundamentals", "Environmental notes", "Notes", "MS Notes", "Notes · 2",
    "A few pages to read when you have a quiet moment.",
    "Nomind shapes",  # squashed names count from a word's start only
])
def test_everyday_words_stay_clean(text):
    assert revealing_word(text, _config()) is None


def test_the_usual_subject_warns_of_plural_alarms_too(project):
    project.write("digests/001-first.yaml", (project.root / "digests/001-first.yaml").read_text(
        encoding="utf-8").replace("A calm subject line", "Three warnings for the week"))
    result = project.run("check")
    assert "the subject says 'warnings'" in result.stdout


def test_the_subject_template_sees_no_issue_id():
    assert [field.name for field in dataclasses.fields(IssueFacts)] == ["number", "date"]
    assert render_subject("Notes · {{ issue.number }} · {{ issue.date.year }}",
                          IssueFacts(2, dt.date(2026, 11, 17))) == "Notes · 2 · 2026"
    assert discreet_subject(_config(), 2, dt.date(2026, 11, 17)) == "Notes · 2"
    with pytest.raises(DiscreetError, match=r"issue\.id is not one of the names it may use: "
                                            r"issue\.number, issue\.date"):
        render_subject("Notes · {{ issue.id }}", IssueFacts(2, dt.date(2026, 11, 17)))


def assert_refused_everywhere(project, lines: list[str], message: str,
                              first: str = "error: ") -> None:
    """check, build and emit each refuse with one line naming newsletter.yaml's line of
    discreet.subject and `message`, no internal error and nothing written."""
    where = f"newsletter.yaml:{line_of(lines, 'subject')}: discreet.subject: "
    check = project.run("check")
    assert check.exit_code == 1
    found = [line for line in check.stdout.splitlines() if "discreet.subject" in line]
    assert len(found) == 1 and found[0].startswith(first) and where + message in found[0], found
    project.write("list.csv", "email,discreet\nkim@example.org,yes\n")
    for args in (("build",), ("emit", "1", "--subscribers", str(project.root / "list.csv"))):
        result = project.run(*args)
        assert result.exit_code == 1, args
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        found = [line for line in result.stderr.splitlines() if "discreet.subject" in line]
        assert len(found) == 1 and where + message in found[0], (args, result.stderr)
        assert not project.out.exists()


@pytest.mark.parametrize(("template", "message"), [
    ('"Notes · {{ issue.id }}"',
     "issue.id is not one of the names it may use: issue.number, issue.date (hint: use only "
     "issue.number and issue.date, which say nothing of what the issue is about"),
    ("'{{ issue[\"id\"] }}'", "issue.id is not one of the names it may use"),
    ("'{% include \"x\" %}'", "{% include %} cannot be used"),
    ("'{% extends \"x\" %}'", "{% extends %} cannot be used"),
    ("'{% import \"x\" as y %}Notes'", "{% import %} cannot be used"),
    ("'{% from \"x\" import y %}Notes'", "{% from ... import %} cannot be used"),
    ('"{{ 1/0 }}"', "it fails when rendered: ZeroDivisionError: division by zero"),
    ('"Notes · {{ title }}"', "'title' is undefined"),
    ('"Notes · {{ issue.number"', "unexpected end of template"),
])
def test_a_subject_template_that_cannot_render_is_a_config_error(project, template, message):
    lines = set_discreet(project, subject=template)
    assert_refused_everywhere(project, lines, message)


def test_a_subject_template_failing_for_one_issue_names_its_line(project):
    # It renders for the check at load (a year-2000 issue 1), and fails for a 2026 issue.
    lines = set_discreet(project, subject='"Notes · {{ 10 // (issue.date.year - 2026) }}"')
    assert_refused_everywhere(project, lines, "for issue 1: it fails when rendered: "
                                              "ZeroDivisionError")


@pytest.mark.parametrize(("key", "value", "shared", "source"), [
    ("subject", '"The parts of you that are trying to help"',
     "the parts of you that are trying to help", "the issue's subject"),
    ("subject", '"THE PARTS, of you · {{ issue.number }}"', "the parts of you",
     "the issue's subject"),
    ("preheader", '"A strategy, an IFS lens, for you."', "a strategy an ifs lens",
     "the issue's preheader"),
    ("preheader", "Distress tolerance for the urge to call.",
     "distress tolerance for the urge to", "the title of distress-tolerance-four-minute-window"),
])
def test_the_issues_own_words_are_refused(sample_project, key, value, shared, source):
    lines = set_discreet(sample_project, **{key: value})
    result = sample_project.run("check")
    assert result.exit_code == 1
    found = [line for line in result.stdout.splitlines() if f"discreet.{key}:" in line]
    assert len(found) == 1, result.stdout
    assert f"newsletter.yaml:{line_of(lines, key)}: discreet.{key}: " in found[0]
    assert f"shares {shared!r} with {source}: the email's own words tell" in found[0]
    assert "(hint: write neutral words of your own" in found[0]
    build = sample_project.run("build")
    assert build.exit_code == 1 and f"shares {shared!r} with {source}" in build.stderr
    sample_project.write("list.csv", "email,discreet\nkim@example.org,yes\n")
    emitted = sample_project.run("emit", "2", "--subscribers",
                                 str(sample_project.root / "list.csv"))
    assert emitted.exit_code == 1 and f"shares {shared!r}" in emitted.stderr
    assert "Traceback" not in emitted.stderr and not sample_project.out.exists()


def test_two_shared_words_or_the_welcomes_own(sample_project):
    set_discreet(sample_project, subject='"The parts · {{ issue.number }}"',
                 preheader="Pages to help, when you have a quiet moment.")
    assert "discreet" not in sample_project.run("check").stdout
    lines = set_discreet(sample_project, welcome_subject="Welcome, and what you signed up for")
    result = sample_project.run("check", "welcome")
    assert result.exit_code == 1
    assert (f"newsletter.yaml:{line_of(lines, 'welcome_subject')}: discreet.welcome_subject: "
            "'Welcome, and what you signed up for' shares 'what you signed up for' with the "
            "welcome's preheader") in result.stdout
