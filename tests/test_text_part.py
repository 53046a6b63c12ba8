"""A text part that survives mail apps and text browsers (issue 15, part 3): every line within
72 columns, so a 72-column re-wrap (Claws Mail's, textwrap's) changes nothing; a blank line
after each card's link in the HTML's reading order; a preheader whose filler text browsers
show as blank, and which an inbox preview still shows alone."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap

import pytest
from conftest import Project, chunk_file, issue_file

from newsletter.render.markup import display_width

WIDTH = 72
# A line longer than WIDTH may only be one link or address, never cut (after a list's indent).
LONE_LINK = re.compile(r"\s*(?:\| )?(?:- )?(?:<\S+>[.,:;)]?|\S*(?:://|@)\S*)")
# Item markers in our text layout: (the pattern, how a continuation line is indented).
MARKERS = [(re.compile(r"  \| "), "  | "), (re.compile(r"  - "), "    "),
           (re.compile(r"- "), "  "), (re.compile(r"\d+\. "), None),
           (re.compile(r"> "), "> "), (re.compile(r"  (?=\S)"), "    ")]


def built_text(project: Project, issue: str) -> str:
    result = project.run("build", issue)
    assert result.exit_code == 0, result.stderr
    return next(project.out.glob("*/email.txt")).read_text(encoding="utf-8")


def too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if display_width(line) > WIDTH and not LONE_LINK.fullmatch(line)]


def items(block: str) -> list[tuple[str, str, list[str]]]:
    """A block's items as (first line's prefix, continuation prefix, lines): a paragraph,
    a list item, a crisis line, the editor's note behind its bar."""
    found: list[tuple[str, str, list[str]]] = []
    for line in block.split("\n"):
        following = found[-1][1] if found else None
        if following and line.startswith(following):
            found[-1][2].append(line)
            continue
        for marker, continuation in MARKERS:
            start = marker.match(line)
            if start:
                prefix = start.group(0)
                found.append((prefix, continuation or " " * len(prefix), [line]))
                break
        else:
            if found and found[-1][0] == "":
                found[-1][2].append(line)
            else:
                found.append(("", "", [line]))
    return found


def rewrapped(text: str) -> list[tuple[str, str]]:
    """(as written, as a 72-column re-wrap makes it) for every paragraph and item that a
    re-wrap would change; headings and rules are left alone, as mail apps leave them."""
    changed = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        if set(lines[-1]) <= set("=-"):  # a heading, underlined, or a rule
            continue
        for first, following, item in items(block):
            words = " ".join(line[len(first if i == 0 else following):]
                             for i, line in enumerate(item))
            again = textwrap.fill(words, WIDTH, initial_indent=first,
                                  subsequent_indent=following, break_long_words=False,
                                  break_on_hyphens=False)
            if again != "\n".join(item):
                changed.append(("\n".join(item), again))
    return changed


@pytest.mark.parametrize("issue", ["1", "2"])
def test_every_line_of_the_sample_issues_is_within_72_columns(sample_project, issue):
    text = built_text(sample_project, issue)
    assert too_wide(text) == []
    # The one longer line is the unsubscribe link, a mailto: no line break may cut.
    assert [line for line in text.splitlines() if display_width(line) > WIDTH] == [
        line for line in text.splitlines() if line.startswith("<mailto:")]


@pytest.mark.parametrize("issue", ["1", "2"])
def test_a_72_column_rewrap_of_the_sample_issues_changes_nothing(sample_project, issue):
    assert rewrapped(built_text(sample_project, issue)) == []


HOSTILE_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2
HOSTILE_URL = "https://mindshape.io/research/" + "a-very-long-path-segment/" * 4


def hostile(project: Project) -> Project:
    """A chunk and an issue made of what wraps badly: words longer than a line, long URLs
    and DOIs, CJK (two columns a character), combining accents, an emoji."""
    title = f"Café — 日本語の長いタイトル {HOSTILE_WORD} 🌱 nai\u0308ve " + "語" * 40
    summary = (f"A teaser with {HOSTILE_WORD} and a bare {HOSTILE_URL} and "
               + "中文摘要很长" * 12 + " then e\u0301" * 30)
    extra = (f'content_warning: "{HOSTILE_WORD} {HOSTILE_WORD}"\n'
             "sources:\n"
             f'  - citation: "{HOSTILE_WORD} (2020). 研究の題名"\n'
             "    doi: 10.1000/" + "abcdefghij" * 8 + "\n"
             '  - citation: "Plain citation with a link"\n'
             f"    url: {HOSTILE_URL}\n"
             "reviewed: 2026-11-01\n")
    project.write("content/alpha.md", chunk_file("alpha", kind="research-breakdown",
                                                 title=title, summary=summary, extra=extra))
    note = f"{HOSTILE_WORD} see {HOSTILE_URL} " + "注" * 50
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", f"  Hello {HOSTILE_WORD}, [a link]({HOSTILE_URL}).")
        .replace("  - id: alpha", f'  - id: alpha\n    note: "{note}"'))
    return project


def test_a_hostile_chunk_stays_within_72_columns(project):
    text = built_text(hostile(project), "1")
    assert HOSTILE_URL in text and "10.1000/abcdefghij" in text  # links kept whole
    assert too_wide(text) == []
    for line in text.splitlines():  # the editor's note keeps its bar on every line
        if "注" in line or "Editor's note" in line:
            assert line.startswith("  | "), line


def test_a_rewrap_of_a_hostile_chunk_changes_nothing(project):
    text = built_text(hostile(project), "1")
    # textwrap counts characters, not columns: compare the lines without wide characters.
    narrow = [(old, new) for old, new in rewrapped(text)
              if display_width(old) == len(old) and "\u0301" not in old]
    assert narrow == []


def test_a_long_word_is_cut_at_the_line_end_and_a_url_never(project):
    text = built_text(hostile(project), "1")
    summary = text.split("A teaser with\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert summary[:4] == [HOSTILE_WORD[:72], HOSTILE_WORD[72:] + " and a bare", HOSTILE_URL,
                           "and " + "中文摘要很长" * 5 + "中文摘要"]


# The HTML, read without CSS: text browsers and screen readers ------------------------------

def dump(program: str, html_path) -> str:
    if not shutil.which(program):
        pytest.skip(f"{program} is not installed (Debian: apt-get install {program})")
    command = {"w3m": ["w3m", "-dump", "-T", "text/html", "-cols", "80", str(html_path)],
               "lynx": ["lynx", "-dump", "-nolist", "-display_charset=utf-8", str(html_path)]}
    return subprocess.run(command[program], capture_output=True, text=True, check=True,
                          env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}).stdout


@pytest.mark.parametrize("program", ["w3m", "lynx"])
def test_text_browsers_show_a_blank_line_after_each_cards_link(sample_project, program):
    sample_project.run("build", "2")
    lines = [line.strip() for line in
             dump(program, sample_project.out / "002-parts-that-help" / "email.html").splitlines()]
    links = [number for number, line in enumerate(lines) if line == "Read the full piece"]
    assert len(links) == 4
    assert all(lines[number + 1] == "" for number in links), [lines[n + 1] for n in links]


@pytest.mark.parametrize("program", ["w3m", "lynx"])
@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_text_browsers_show_the_preheaders_filler_as_blank(sample_project, program, locale):
    sample_project.run("build", "2")
    html = sample_project.out / "002-parts-that-help" / "email.html"
    if not shutil.which(program):
        pytest.skip(f"{program} is not installed")
    command = {"w3m": ["w3m", "-dump", "-T", "text/html", "-cols", "80", str(html)],
               "lynx": ["lynx", "-dump", "-nolist", str(html)]}[program]
    shown = subprocess.run(command, capture_output=True, check=True,
                           env={"LANG": locale, "PATH": "/usr/bin:/bin"}).stdout
    before = shown.decode("utf-8", "replace").split("Mindshape", 1)[0]
    preheader = ("Anxious attachment as a strategy, an IFS lens, a four-minute practice, "
                 "and knowing when to ask.")
    assert before.split() == preheader.split(), before


def test_an_inbox_preview_shows_the_preheader_alone(sample_project, browser):
    """What a mail app's preview line takes: the body's text, tags dropped and white space
    folded; the filler keeps the masthead out of its first 140 characters."""
    sample_project.run("build", "2")
    page = browser.new_page()
    page.goto((sample_project.out / "002-parts-that-help" / "email.html").resolve().as_uri())
    content = page.evaluate("document.body.textContent")
    hidden = page.evaluate("getComputedStyle(document.querySelector('.ms-preheader')).display")
    page.close()
    preview = re.sub(r"\s+", " ", content).strip()[:140]
    assert hidden == "none"
    assert preview.startswith("Anxious attachment as a strategy")
    assert re.sub(r"[\s\u00ad]", "", preview) == re.sub(
        r"\s", "", "Anxious attachment as a strategy, an IFS lens, a four-minute practice, "
                   "and knowing when to ask.")
