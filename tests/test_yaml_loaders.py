"""libyaml parses valid files; PyYAML's pure parser words the problems. Both must see the
same data and point at the same lines, or an editor would be sent to the wrong line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO

from newsletter.source import yamlsource

SAMPLE_FILES = sorted([REPO / "newsletter.yaml", *(REPO / "digests").glob("*.yaml"),
                       *(REPO / "content").glob("*.md")])

TRICKY = {
    "non-ASCII before keys": "title: Ça va? 😀 — “quotes”\nsummary: 心\nkey: value\n",
    "CRLF line ends": "a: 1\r\nb:\r\n  - x\r\n  - y: 2\r\n",
    "dates, one impossible": "date: 2026-11-28\nwhen: 2026-02-30\nstamp: 2026-11-28 10:00:00\n",
    "U+2028 inside quotes": 'title: "one\u2028two"\nnext: 3\n',
    "block scalar": "body: |\n  line one\n  line two\nafter: yes\n",
    "nested lists of maps": "chunks:\n  - id: a\n    alt: x\n  - id: b\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "alias": "a: &x [1, 2]\nb: *x\n",
}


def front_matter(path: Path) -> tuple[str, int]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return text.split("---\n")[1], 2
    return text, 1


def both(text: str, first_line: int = 1) -> tuple:
    lines = yamlsource._Lines(text, first_line)
    path = Path("x.yaml")
    return (yamlsource._load_with(yamlsource._FastLoader, text, path, lines),
            yamlsource._load_with(yamlsource._Loader, text, path, lines))


def summary(result: tuple) -> tuple:
    doc, problems = result
    return ((doc.data, doc.lines) if doc else None,
            [(p.line, p.field, p.message) for p in problems])


def test_libyaml_is_there_so_valid_files_take_the_fast_path():
    assert yamlsource._FastLoader is not None, "PyYAML was installed without libyaml"


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_both_loaders_read_the_sample_files_alike(path):
    fast, pure = both(*front_matter(path))
    assert fast[0] is not None and not fast[1]
    assert summary(fast) == summary(pure)


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_both_loaders_agree_on_data_lines_and_problems(text):
    fast, pure = both(text, first_line=3)
    assert summary(fast) == summary(pure)


def test_a_byte_order_mark_does_not_shift_line_numbers():
    doc, problems = yamlsource.load_yaml("\ufeffa: 1\nb: 2\na: 3\n", Path("x.yaml"))
    assert doc.lines[("b",)] == 2
    assert [(p.line, p.message) for p in problems] == [(3, "appears twice")]


def test_a_tab_after_the_colon_is_read_as_libyaml_reads_it():
    """The one kind of file the two parsers disagree on (PyYAML's own refuses it): the value
    an editor meant is what is loaded, so the editor is not sent to fix a tab they can't see."""
    doc, problems = yamlsource.load_yaml("title: \tThe title\nnext: 2\n", Path("x.yaml"))
    assert doc.data == {"title": "The title", "next": 2} and not problems


def test_an_impossible_date_stays_text_through_the_fast_loader():
    (doc, _), _ = both("when: 2026-02-30\n")
    assert doc.data == {"when": "2026-02-30"}


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: 'open\nb: 2\n", "a: \x07\n",
                                  "[" * 3000 + "]" * 3000 + "\n"])
def test_a_broken_file_gets_the_pure_loaders_words(text):
    """The fast loader's own error is never shown: load_yaml asks the pure one."""
    with pytest.raises(Exception) as pure_error:  # any of PyYAML's errors
        yamlsource._load_with(yamlsource._Loader, text, Path("x.yaml"),
                              yamlsource._Lines(text, 1))
    doc, problems = yamlsource.load_yaml(text, Path("x.yaml"))
    assert doc is None and len(problems) == 1
    if isinstance(pure_error.value, yaml.MarkedYAMLError) and pure_error.value.problem:
        assert pure_error.value.problem in problems[0].message
