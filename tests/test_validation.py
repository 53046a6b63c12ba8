"""What an editor sees when an input is wrong: `send.py build` through the CLI.

Every rejection must be exit code 1, one `Error: <path>:<line>: <field>: <message> (hint: ...)`
line per problem on stderr, no traceback, and nothing written to the output folder.

The tests run from inside the project folder (as an editor does), so paths in the
messages are relative: `content/x.md:5: url: ...`. Broken chunks are written as
`content/x.md`, which no issue lists, so their own problems are the only ones reported.
"""

from __future__ import annotations

import re

import pytest
from conftest import Project, chunk_file, issue_file

ISSUE = "digests/001-first.yaml"
KINDS = ("research-breakdown", "framework-deep-dive", "test-take", "guide", "note")


@pytest.fixture(autouse=True)
def _inside_the_project(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.root)


def rejected(project: Project, *args: str) -> list[str]:
    """Run `build`, check it failed cleanly, and return the problems without 'Error: '."""
    result = project.run("build", *args)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # One line per problem, each of them an "Error: " line (no wrapped or bare lines).
    assert result.stderr.splitlines() == result.errors, result.stderr
    assert result.errors, "a rejection must say why"
    assert not project.out.exists(), "a rejected build must write nothing"
    return [line.removeprefix("Error: ") for line in result.errors]


def with_hint(expected: str) -> re.Pattern[str]:
    """The exact problem text, followed by a non-empty hint."""
    return re.compile(re.escape(expected) + r" \(hint: .+\)")


def edited(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the template text"
    return text.replace(old, new, 1)


def x_chunk(old: str = "", new: str = "", **kwargs: str) -> str:
    """content/x.md: the valid conftest chunk (title on line 2, kind 3, date 4, url 5,
    summary 6-7, tags 8, extra lines from 9), with `old` replaced by `new`."""
    text = chunk_file("x", **kwargs)
    return edited(text, old, new) if old else text


def without_key(text: str, key: str) -> str:
    """Remove `key:` and its indented continuation lines."""
    result, count = re.subn(rf"^{key}:.*\n(?:[ \t]+.*\n)*", "", text, flags=re.M)
    assert count == 1, key
    return result


def edit_config(project: Project, pattern: str, replacement: str) -> int:
    """Replace the first match of `pattern` (multiline regex) in newsletter.yaml.

    Returns the 1-based line where the match started, so tests do not depend on the
    layout of the real config file.
    """
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.M)
    assert match, f"newsletter.yaml has no match for {pattern!r}"
    path.write_text(text[:match.start()] + replacement + text[match.end():], encoding="utf-8")
    return text.count("\n", 0, match.start()) + 1


def config_line(project: Project, pattern: str) -> int:
    text = (project.root / "newsletter.yaml").read_text(encoding="utf-8")
    match = re.search(pattern, text, flags=re.M)
    assert match, pattern
    return text.count("\n", 0, match.start()) + 1


def test_the_valid_project_builds_so_each_rejection_below_comes_from_its_edit(project):
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    assert result.errors == []
    assert (project.out / "001-first" / "email.html").exists()


def test_a_problem_is_one_error_line_with_path_line_field_message_and_hint(project):
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x",
                                          "url: http://mindshape.io/x"))
    result = project.run("build")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: content/x.md:5: url: must be an absolute https:// address, got "
        "'http://mindshape.io/x' (hint: use the full address, starting with https://)\n")
    assert not project.out.exists()


def test_paths_are_absolute_when_run_from_outside_the_project(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x", "url: /x"))
    [problem] = rejected(project)
    assert problem.startswith(f"{project.root / 'content' / 'x.md'}:5: url: ")


# --- content chunks: content/*.md ---------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "kind", "date", "url", "summary", "tags"])
def test_missing_required_chunk_field_names_the_file_and_field(project, field):
    project.write("content/x.md", without_key(x_chunk(), field))
    # A missing key has no line of its own: it is reported at the top of the front matter.
    assert rejected(project) == [
        f"content/x.md:2: {field}: is required (hint: add a line '{field}: ...')"]


def test_wrong_kind_lists_the_allowed_kinds(project):
    project.write("content/x.md", x_chunk(kind="essay"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:3: kind: must be one of ")
    assert "got 'essay'" in problem
    for kind in KINDS:
        assert kind in problem


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("date: 2026-11-01", "date: 1 Nov 2026",
                 "content/x.md:4: date: must be a date as YYYY-MM-DD, got '1 Nov 2026'",
                 id="date-in-words"),
    pytest.param("date: 2026-11-01", "date: 01/11/2026",
                 "content/x.md:4: date: must be a date as YYYY-MM-DD, got '01/11/2026'",
                 id="date-with-slashes"),
    pytest.param("url: https://mindshape.io/x", "url: http://mindshape.io/x",
                 "content/x.md:5: url: must be an absolute https:// address, "
                 "got 'http://mindshape.io/x'", id="http-url"),
    pytest.param("url: https://mindshape.io/x", "url: /guides/x",
                 "content/x.md:5: url: must be an absolute https:// address, got '/guides/x'",
                 id="relative-url"),
    pytest.param("url: https://mindshape.io/x", "url: mindshape.io/x",
                 "content/x.md:5: url: must be an absolute https:// address, "
                 "got 'mindshape.io/x'", id="url-without-scheme"),
    pytest.param('title: "Title of x"', "title: 42",
                 "content/x.md:2: title: must be text, got a number (42)", id="number-title"),
    pytest.param('title: "Title of x"', "title: yes",
                 "content/x.md:2: title: must be text, got true/false", id="yes-as-title"),
    pytest.param('title: "Title of x"', "title: 2026-11-01",
                 "content/x.md:2: title: must be text, got a date (2026-11-01)", id="date-title"),
    pytest.param("summary: >-\n  A short teaser for the piece.", "summary: 3.5",
                 "content/x.md:6: summary: must be text, got a number (3.5)",
                 id="number-summary"),
    pytest.param('title: "Title of x"', f'title: "{"x" * 201}"',
                 "content/x.md:2: title: is 201 characters long, over the limit of 200",
                 id="title-too-long"),
    pytest.param("tags: [attachment]", "tags: {attachment: 1}",
                 "content/x.md:8: tags: must be a list, got a mapping", id="tags-mapping"),
    pytest.param("tags: [attachment]", "tags: 3",
                 "content/x.md:8: tags: must be a list, got a number (3)", id="tags-number"),
    pytest.param("tags: [attachment]", "tags: [attachment, 3]",
                 "content/x.md:8: tags: item 2 must be text, got a number (3)", id="tag-is-number"),
])
def test_bad_chunk_value_is_reported_on_its_line_with_what_is_wrong(project, old, new, expected):
    project.write("content/x.md", x_chunk(old, new))
    [problem] = rejected(project)
    assert with_hint(expected).fullmatch(problem), problem


@pytest.mark.parametrize("date", ["2026-13-01", "2026-02-30"])
def test_impossible_chunk_date_is_a_problem_not_a_traceback(project, date):
    project.write("content/x.md", x_chunk("date: 2026-11-01", f"date: {date}"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:4: date: ")
    assert date in problem


def test_unknown_field_lists_the_known_fields(project):
    project.write("content/x.md", x_chunk(extra="titel: Another title\n"))
    assert rejected(project) == [
        "content/x.md:9: titel: is not a known field (hint: remove it or fix its spelling; "
        "known fields: title, kind, date, url, summary, tags, content_warning, image, sources, "
        "reviewed)"]


def test_duplicate_key_points_at_the_second_one(project):
    project.write("content/x.md", x_chunk("kind: guide\n", "kind: guide\nkind: note\n"))
    assert rejected(project) == ["content/x.md:4: kind: appears twice (hint: keep one of the two)"]


def test_empty_content_warning_is_refused(project):
    project.write("content/x.md", x_chunk(extra='content_warning: "  "\n'))
    assert rejected(project) == [
        "content/x.md:9: content_warning: is empty (hint: write a value or remove the line)"]


def test_content_warning_key_without_a_value_is_refused(project):
    project.write("content/x.md", x_chunk(extra="content_warning:\n"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:9: content_warning: ")
    assert "empty" in problem


def test_image_without_alt_is_refused(project):
    project.write("content/x.md", x_chunk(extra="image:\n  src: https://mindshape.io/a.png\n"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:9: image.alt: is required")


@pytest.mark.parametrize("alt", ["image", "Photo", "photo of", "picture.", "photo.png",
                                 "IMG_0042.JPG", "hero.webp"])
def test_image_alt_that_describes_nothing_is_refused(project, alt):
    project.write("content/x.md", x_chunk(
        extra=f'image:\n  src: https://mindshape.io/a.png\n  alt: "{alt}"\n'))
    assert rejected(project) == [
        f"content/x.md:11: image.alt: {alt!r} does not describe the image (hint: say what the "
        "image shows, as you would to someone who cannot see it)"]


@pytest.mark.parametrize(("src", "host"), [
    pytest.param("https://cdn.example.com/a.png", "cdn.example.com", id="third-party"),
    pytest.param("https://evilmindshape.io/a.png", "evilmindshape.io", id="lookalike-suffix"),
    pytest.param("https://mindshape.io.example.com/a.png", "mindshape.io.example.com",
                 id="lookalike-prefix"),
    pytest.param("https://mindshape.io@tracker.example/a.png", "tracker.example",
                 id="userinfo-trick"),
])
def test_image_on_another_host_than_the_site_is_refused(project, src, host):
    project.write("content/x.md", x_chunk(extra=f"image:\n  src: {src}\n  alt: A calm lake\n"))
    [problem] = rejected(project)
    assert problem.startswith(f"content/x.md:10: image.src: is on {host}, not on the site "
                              "(mindshape.io) (hint: ")


def test_image_on_a_subdomain_of_the_site_is_accepted(project):
    project.write("content/x.md", x_chunk(
        extra="image:\n  src: https://img.mindshape.io/a.png\n  alt: A calm lake at dawn\n"))
    result = project.run("build")
    assert result.exit_code == 0, result.stderr


def test_image_over_http_is_refused(project):
    project.write("content/x.md", x_chunk(
        extra="image:\n  src: http://mindshape.io/a.png\n  alt: A calm lake\n"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:10: image.src: must be an absolute https:// address")


@pytest.mark.parametrize(("escaped", "shown"), [
    pytest.param(r"\n", r"'\n'", id="line-feed"),
    pytest.param(r"\r", r"'\r'", id="carriage-return"),
    pytest.param(r"\t", r"'\t'", id="tab"),
    pytest.param(r"\x07", r"'\x07'", id="bell"),
    pytest.param(r"\x85", r"'\x85'", id="next-line"),
    pytest.param(r"\u2028", r"'\u2028'", id="line-separator"),
])
def test_control_character_or_line_break_in_title_is_refused(project, escaped, shown):
    project.write("content/x.md", x_chunk(title=f"Line one{escaped}line two"))
    assert rejected(project) == [
        f"content/x.md:2: title: contains a control character or line break ({shown}) "
        "(hint: remove it; write the value on one line)"]


@pytest.mark.parametrize("char", ["\x0c", "\x07", "\x00"], ids=["form-feed", "bell", "nul"])
def test_raw_control_character_in_front_matter_is_a_problem_on_its_line(project, char):
    project.write("content/x.md", x_chunk(title=f"Pasted{char}title"))
    [problem] = rejected(project)
    assert re.match(r"content/x\.md:2: .*control character", problem), problem


def test_pasted_line_separator_does_not_shift_later_line_numbers(project):
    text = x_chunk("url: https://mindshape.io/x", "url: http://mindshape.io/x",
                   title="Pasted\u2028title")
    project.write("content/x.md", text)
    problems = rejected(project)
    assert any(p.startswith("content/x.md:5: url: ") for p in problems), problems


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("url: https://mindshape.io/x", "url: https://mindshape.io/x: part two",
                 "content/x.md:5: YAML syntax error: mapping values are not allowed here",
                 id="colon-in-unquoted-value"),
    pytest.param("tags: [attachment]", "tags:\n\t- attachment",
                 "content/x.md:9: YAML syntax error: found character '\\t' that cannot start "
                 "any token", id="tab-indent"),
])
def test_yaml_syntax_error_is_reported_on_the_right_line(project, old, new, expected):
    project.write("content/x.md", x_chunk(old, new))
    [problem] = rejected(project)
    assert with_hint(expected).fullmatch(problem), problem


@pytest.mark.parametrize(("old", "new", "line"), [
    pytest.param('title: "Title of x"', 'title: "Title of x', 2, id="unclosed-quote"),
    pytest.param("kind: guide", "kind: [guide", 3, id="unclosed-bracket"),
])
def test_unclosed_quote_or_bracket_is_reported_where_it_opens(project, old, new, line):
    project.write("content/x.md", x_chunk(old, new))
    [problem] = rejected(project)
    assert problem.startswith(f"content/x.md:{line}: YAML syntax error"), problem


@pytest.mark.parametrize(("front", "url_line"), [
    pytest.param('# Notes for editors: keep it short.\n\ntitle: "Title of x"\n', 7,
                 id="comment-and-blank-line"),
    pytest.param("title: >-\n  A title written\n  over two lines\n", 7, id="folded-title"),
])
def test_line_numbers_count_comments_blank_lines_and_block_values(project, front, url_line):
    text = x_chunk("url: https://mindshape.io/x", "url: http://mindshape.io/x")
    project.write("content/x.md", edited(text, 'title: "Title of x"\n', front))
    [problem] = rejected(project)
    assert problem.startswith(f"content/x.md:{url_line}: url: ")


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: text.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(lambda text: ("\ufeff" + text).encode(), id="byte-order-mark"),
])
def test_line_numbers_survive_windows_line_endings_and_bom(project, encode):
    text = x_chunk("url: https://mindshape.io/x", "url: http://mindshape.io/x")
    (project.root / "content" / "x.md").write_bytes(encode(text))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:5: url: ")


@pytest.mark.parametrize("text", [
    pytest.param("# A heading\n\nJust Markdown, no fields.\n", id="markdown-only"),
    pytest.param("", id="empty-file"),
    pytest.param("title: x\n---\nBody\n", id="missing-opening-dashes"),
])
def test_chunk_without_front_matter_is_refused(project, text):
    project.write("content/x.md", text)
    assert rejected(project) == [
        "content/x.md:1: has no front matter (hint: start the file with a '---' line, "
        "the fields, and another '---' line)"]


def test_unclosed_front_matter_is_refused(project):
    project.write("content/x.md", x_chunk("---\nBody of x.", "Body of x."))
    assert rejected(project) == [
        "content/x.md:1: front matter is not closed (hint: start the file with a '---' line, "
        "the fields, and another '---' line)"]


@pytest.mark.parametrize("body", ["", "\n", "   \n\n\t\n"], ids=["none", "newline", "blank"])
def test_empty_body_is_reported_on_the_line_after_the_front_matter(project, body):
    project.write("content/x.md", x_chunk("Body of x.\n", body))
    assert rejected(project) == [
        "content/x.md:10: body: is empty (hint: write the chunk's Markdown below the closing "
        "'---')"]


@pytest.mark.parametrize("name", ["Bad Name.md", "Capital.md", "under_score.md", "-dash.md"])
def test_file_name_that_is_not_a_usable_id_is_refused(project, name):
    project.write(f"content/{name}", chunk_file("ok"))
    assert rejected(project) == [
        f"content/{name}: file name {name!r} is not a usable chunk id (hint: use lowercase "
        "letters, digits and hyphens ending in .md, like protest-behaviour.md)"]


def test_non_utf8_chunk_is_refused(project):
    (project.root / "content" / "x.md").write_bytes(x_chunk(title="Café").encode("latin-1"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:2: is not UTF-8 text")
    assert problem.endswith("(hint: save the file as UTF-8)")


def test_self_referencing_alias_is_a_problem_not_a_traceback(project):
    project.write("content/x.md", x_chunk("tags: [attachment]", "tags: &t [attachment, *t]"))
    problems = rejected(project)
    assert problems[0].startswith("content/x.md:8: ")


def test_required_field_with_no_value_says_it_is_empty(project):
    project.write("content/x.md", x_chunk('title: "Title of x"', "title:"))
    [problem] = rejected(project)
    assert problem.startswith("content/x.md:2: title: ")
    assert "empty" in problem
    assert "add a line 'title: ...'" not in problem


# --- all problems at once ------------------------------------------------------------------


def test_every_problem_in_every_file_is_reported_in_one_run(project):
    colour_line = edit_config(project, r'^    accent: .*$', '    accent: "purple"')
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x", "url: /x"))
    project.write("content/y.md", chunk_file("y", kind="essay"))
    project.write("digests/002-second.yaml", issue_file(2, ("alpha", "nope")))
    problems = rejected(project)
    expected = [
        f"newsletter.yaml:{colour_line}: brand.light.accent: must be a colour as #rrggbb",
        "content/x.md:5: url: must be an absolute https:// address",
        "content/y.md:3: kind: must be one of",
        "digests/002-second.yaml:9: chunks[1].id: unknown chunk 'nope'",
    ]
    assert len(problems) == len(expected), problems
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)


def test_several_problems_in_one_chunk_are_all_reported(project):
    text = x_chunk(kind="essay", extra="image:\n  src: https://cdn.example.com/a.png\n")
    text = edited(text, "url: https://mindshape.io/x", "url: http://mindshape.io/x")
    project.write("content/x.md", text)
    problems = rejected(project)
    assert sorted(" ".join(p.split(" ", 2)[:2]) for p in problems) == [
        "content/x.md:10: image.src:", "content/x.md:3: kind:", "content/x.md:5: url:",
        "content/x.md:9: image.alt:"]


def test_config_problem_does_not_hide_an_off_site_image(project):
    edit_config(project, r'^    accent: .*$', '    accent: "purple"')
    project.write("content/x.md", x_chunk(
        extra="image:\n  src: https://cdn.example.com/a.png\n  alt: A calm lake\n"))
    problems = rejected(project)
    assert any(p.startswith("content/x.md:10: image.src: is on cdn.example.com")
               for p in problems), problems


# --- issue files: digests/*.yaml -----------------------------------------------------------


def test_unknown_chunk_id_names_the_id_and_the_issue_file(project):
    project.write(ISSUE, issue_file(chunks=("alpha", "betta")))
    assert rejected(project) == [
        "digests/001-first.yaml:9: chunks[1].id: unknown chunk 'betta': there is no "
        "content/betta.md (hint: check the spelling against the file names in content/)"]


def test_chunk_listed_twice_is_refused(project):
    project.write(ISSUE, issue_file(chunks=("alpha", "alpha")))
    assert rejected(project) == [
        "digests/001-first.yaml:9: chunks[1].id: chunk 'alpha' is listed twice "
        "(hint: keep one of them)"]


def test_duplicate_issue_number_names_both_files(project):
    project.write("digests/002-second.yaml", issue_file(1))
    [problem] = rejected(project)
    assert problem.startswith("digests/002-second.yaml:1: number: 1 is also the number of ")
    assert "001-first.yaml" in problem


def test_duplicate_issue_number_points_at_the_number_line(project):
    project.write("digests/002-second.yaml", "# Second issue\n\n" + issue_file(1))
    [problem] = rejected(project)
    assert problem.startswith("digests/002-second.yaml:3: number: ")
    assert "001-first.yaml" in problem


@pytest.mark.parametrize(("key", "message"), [
    ("number", "is required (hint: add a line 'number: ...')"),
    ("date", "is required (hint: add a line 'date: ...')"),
    ("subject", "is required (hint: add a line 'subject: ...')"),
    ("preheader", "is required (hint: add a line 'preheader: ...')"),
    ("intro", "is required (hint: add a line 'intro: ...')"),
    ("chunks", "must list at least one chunk id (hint: add '- id: <chunk-id>' lines, "
               "one per content/<chunk-id>.md)"),
])
def test_missing_issue_field_is_reported(project, key, message):
    project.write(ISSUE, without_key(issue_file(), key))
    assert rejected(project) == [f"digests/001-first.yaml:1: {key}: {message}"]


def test_issue_with_an_empty_chunk_list_is_refused(project):
    project.write(ISSUE, issue_file().replace("chunks:\n  - id: alpha", "chunks: []"))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:7: chunks: must list at least one chunk id")


@pytest.mark.parametrize("subject", [
    pytest.param('"Hello\\nBcc: everyone@example.com"', id="escaped-line-feed"),
    pytest.param('"Hello\\r\\nBcc: everyone@example.com"', id="escaped-crlf"),
    pytest.param("|\n  Hello\n  Bcc: everyone@example.com", id="block-scalar"),
])
def test_subject_with_a_line_break_is_refused(project, subject):
    project.write(ISSUE, edited(issue_file(), 'subject: "A calm subject line"',
                                f"subject: {subject}"))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:3: subject: contains a control character "
                              "or line break")


@pytest.mark.parametrize("word", ["=?utf-8?q?hi?=", "=?UTF-8?B?aGk=?="])
def test_subject_with_an_encoded_word_look_alike_is_refused(project, word):
    project.write(ISSUE, issue_file(subject=f"Say {word} to us"))
    assert rejected(project) == [
        "digests/001-first.yaml:3: subject: contains '=?...?' which mail programs decode as an "
        "encoded word (hint: rephrase without the '=?' sequence)"]


@pytest.mark.parametrize(("value", "shown"), [
    ("0", "0"), ("-3", "-3"), ("1.5", "1.5"), ('"7"', "'7'"), ("two", "'two'"),
])
def test_issue_number_must_be_a_positive_whole_number(project, value, shown):
    project.write(ISSUE, edited(issue_file(), "number: 1", f"number: {value}"))
    assert rejected(project) == [
        f"digests/001-first.yaml:1: number: must be a whole number of at least 1, got {shown} "
        "(hint: for example 3)"]


def test_impossible_issue_date_is_a_problem_not_a_traceback(project):
    project.write(ISSUE, issue_file(date="2026-02-30"))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:2: date: ")
    assert "2026-02-30" in problem


@pytest.mark.parametrize("template", ["fancy", "../templates/digest", "Digest"])
def test_unknown_template_lists_the_available_ones(project, template):
    project.write(ISSUE, issue_file(extra=f'template: "{template}"\n'))
    assert rejected(project) == [
        f"digests/001-first.yaml:9: template: {template!r} is not a template in templates/ "
        "(hint: use one of: digest (each needs NAME.mjml.j2 and NAME.txt.j2))"]


def test_chunk_entry_with_an_unknown_key_is_refused(project):
    project.write(ISSUE, edited(issue_file(), "  - id: alpha", "  - id: alpha\n    nite: hi"))
    assert rejected(project) == [
        "digests/001-first.yaml:9: chunks[0].nite: is not a known field (hint: remove it or fix "
        "its spelling; known fields: id, note)"]


def test_unknown_issue_field_lists_the_known_fields(project):
    project.write(ISSUE, issue_file(extra="subjet: Typo\n"))
    assert rejected(project) == [
        "digests/001-first.yaml:9: subjet: is not a known field (hint: remove it or fix its "
        "spelling; known fields: number, date, subject, preheader, intro, chunks, template)"]


def test_broken_chunk_is_reported_once_and_each_issue_says_fix_it_first(project):
    project.write("content/beta.md", chunk_file("beta", kind="essay"))
    project.write(ISSUE, issue_file(chunks=("alpha", "beta")))
    project.write("digests/002-second.yaml", issue_file(2, ("beta",)))
    problems = rejected(project)
    assert len(problems) == 3, problems
    assert problems[0].startswith("content/beta.md:3: kind: must be one of ")
    assert sum("content/beta.md:" in p.split(" ", 1)[0] for p in problems) == 1
    assert problems[1:] == [
        "digests/001-first.yaml:9: chunks[1].id: chunk 'beta' has errors of its own "
        "(hint: fix content/beta.md first)",
        "digests/002-second.yaml:8: chunks[0].id: chunk 'beta' has errors of its own "
        "(hint: fix content/beta.md first)",
    ]


def test_issue_naming_a_non_utf8_chunk_says_fix_that_chunk_first(project):
    (project.root / "content" / "alpha.md").write_bytes(
        chunk_file("alpha", title="Café").encode("latin-1"))
    problems = rejected(project)
    assert problems[0].startswith("content/alpha.md:2: is not UTF-8 text")
    assert problems[1:] == [
        "digests/001-first.yaml:8: chunks[0].id: chunk 'alpha' has errors of its own "
        "(hint: fix content/alpha.md first)"]


# --- newsletter.yaml -----------------------------------------------------------------------


def test_missing_config_says_to_pass_project(project):
    (project.root / "newsletter.yaml").unlink()
    assert rejected(project) == [
        "newsletter.yaml: not found (hint: run from the project folder, or pass --project DIR)"]


@pytest.mark.parametrize(("pattern", "replacement", "expected"), [
    pytest.param(r"^  email: .*$", '  email: "Mindshape <team@mindshape.io>"',
                 "sender.email: must be a plain address like team@mindshape.io, "
                 "got 'Mindshape <team@mindshape.io>'", id="sender-with-display-name"),
    pytest.param(r"^  email: .*$", "  email: team@", "sender.email: must be a plain address "
                 "like team@mindshape.io, got 'team@'", id="sender-without-domain"),
    pytest.param(r"^reply_to: .*$", "reply_to: team at mindshape.io", "reply_to: must be a "
                 "plain address like team@mindshape.io, got 'team at mindshape.io'",
                 id="reply-to-in-words"),
    pytest.param(r"^    accent: .*$", '    accent: "purple"', "brand.light.accent: must be a "
                 "colour as #rrggbb, got 'purple'", id="colour-name"),
    pytest.param(r"^    accent: .*$", '    accent: "#abc"', "brand.light.accent: must be a "
                 "colour as #rrggbb, got '#abc'", id="short-colour"),
    pytest.param(r"^    accent: .*$", '    accent: "#5b4b8g"', "brand.light.accent: must be a "
                 "colour as #rrggbb, got '#5b4b8g'", id="colour-not-hex"),
    pytest.param(r"^site_url: .*$", "site_url: http://mindshape.io", "site_url: must be an "
                 "absolute https:// address, got 'http://mindshape.io'", id="site-url-http"),
    pytest.param(r"^site_url: .*$", "site_url: mindshape.io", "site_url: must be an "
                 "absolute https:// address, got 'mindshape.io'", id="site-url-bare-host"),
    pytest.param(r"^  min_days: .*$", "  min_days: 0", "cadence.min_days: must be a whole "
                 "number of at least 1, got 0", id="cadence-zero"),
    pytest.param(r'^      href: .*$', '      href: "https://988lifeline.org"',
                 "footer.crisis_lines[0].href: must be a tel: or sms: link with digits only, "
                 "got 'https://988lifeline.org'", id="crisis-href-web"),
    pytest.param(r'^      href: .*$', '      href: "tel:116 123"',
                 "footer.crisis_lines[0].href: must be a tel: or sms: link with digits only, "
                 "got 'tel:116 123'", id="crisis-href-space"),
    pytest.param(r'^      href: .*$', '      href: "988"',
                 "footer.crisis_lines[0].href: must be a tel: or sms: link with digits only, "
                 "got '988'", id="crisis-href-bare-number"),
    pytest.param(r'^      href: .*$', '      href: "javascript:alert(1)"',
                 "footer.crisis_lines[0].href: must be a tel: or sms: link with digits only, "
                 "got 'javascript:alert(1)'", id="crisis-href-javascript"),
])
def test_bad_config_value_is_reported_on_its_line(project, pattern, replacement, expected):
    line = edit_config(project, pattern, replacement)
    [problem] = rejected(project)
    assert with_hint(f"newsletter.yaml:{line}: {expected}").fullmatch(problem), problem


@pytest.mark.parametrize("stack", [
    pytest.param("url(https://fonts.example/f.woff2), Arial", id="url"),
    pytest.param("URL(https://fonts.example/f.woff2), Arial", id="url-upper-case"),
    pytest.param("Arial; background: url(x)", id="semicolon"),
    pytest.param("Arial} body {color: red", id="brace"),
    pytest.param("Arial</style><script>", id="tag"),
    pytest.param("Arial\\3b color: red", id="css-escape"),
])
def test_font_stack_refuses_anything_but_font_names(project, stack):
    line = edit_config(project, r"^  font_stack: .*$", f"  font_stack: '{stack}'")
    assert rejected(project) == [
        f"newsletter.yaml:{line}: brand.font_stack: may list font names only "
        "(hint: for example: Georgia, 'Times New Roman', serif)"]


def test_unknown_top_level_key_lists_the_known_ones(project):
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "colour: blue\n", encoding="utf-8")
    line = text.count("\n") + 1
    assert rejected(project) == [
        f"newsletter.yaml:{line}: colour: is not a known field (hint: remove it or fix its "
        "spelling; known fields: name, language, site_url, archive_url, sender, reply_to, "
        "list_id, signup, cadence, compose, brand, footer, check, discreet, smtp, unsubscribe)"]


def test_cadence_min_days_over_max_days_is_refused(project):
    edit_config(project, r"^  min_days: .*$", "  min_days: 30")
    edit_config(project, r"^  max_days: .*$", "  max_days: 28")
    line = config_line(project, r"^  max_days: ")
    [problem] = rejected(project)
    assert problem.startswith(f"newsletter.yaml:{line}: cadence.max_days: ")
    assert "must be at least min_days (30), got 28" in problem


def test_missing_crisis_lines_are_refused(project):
    edit_config(project, r"^  crisis_lines:\n(?:    .*\n)+", "")
    line = config_line(project, r"^footer:")
    assert rejected(project) == [
        f"newsletter.yaml:{line}: footer.crisis_lines: must list at least one crisis line "
        "(hint: every email must carry the crisis lines; see README)"]


def test_empty_crisis_lines_are_refused(project):
    line = edit_config(project, r"^  crisis_lines:\n(?:    .*\n)+", "  crisis_lines: []\n")
    assert rejected(project) == [
        f"newsletter.yaml:{line}: footer.crisis_lines: must list at least one crisis line "
        "(hint: every email must carry the crisis lines; see README)"]


def test_crisis_line_without_href_is_refused(project):
    line = edit_config(project, r"^      href: .*\n", "")
    [problem] = rejected(project)
    # Reported at the list item (the line of its first key).
    assert problem.startswith(f"newsletter.yaml:{line - 2}: footer.crisis_lines[0].href: "
                              "is required")


def test_duplicate_config_key_is_refused(project):
    line = edit_config(project, r"^language: .*$", "language: en\nlanguage: de")
    assert rejected(project) == [
        f"newsletter.yaml:{line + 1}: language: appears twice (hint: keep one of the two)"]


def test_config_yaml_syntax_error_is_reported_on_its_line(project):
    line = edit_config(project, r"^  max_days: .*$", " max_days: 28")
    [problem] = rejected(project)
    assert problem.startswith(f"newsletter.yaml:{line}: YAML syntax error: ")


def test_unquoted_colour_says_to_quote_it(project):
    line = edit_config(project, r"^    accent: .*$", "    accent: #5b4b8a")
    [problem] = rejected(project)
    assert problem.startswith(f"newsletter.yaml:{line}: brand.light.accent: ")
    assert "quote" in problem


# --- naming an issue -----------------------------------------------------------------------


def test_build_of_an_unknown_issue_names_it_and_lists_the_known_ones(project):
    project.write("digests/002-second.yaml", issue_file(2))
    assert rejected(project, "NONEXISTENT") == [
        "no issue 'NONEXISTENT' (hint: name one by number or id: 1 (001-first), 2 (002-second))"]


def test_build_of_an_unknown_issue_number_is_refused(project):
    assert rejected(project, "7") == [
        "no issue '7' (hint: name one by number or id: 1 (001-first))"]


def test_project_without_issues_says_how_to_write_one(project):
    (project.root / ISSUE).unlink()
    [problem] = rejected(project)
    assert problem.startswith("there are no issues in digests/ (hint: write digests/<id>.yaml")


def test_validation_problems_come_before_looking_up_the_issue(project):
    project.write("content/x.md", x_chunk(kind="essay"))
    problems = rejected(project, "NONEXISTENT")
    assert [p.split(" ", 1)[0] for p in problems] == ["content/x.md:3:"]


def test_rejected_build_leaves_an_earlier_build_untouched(project):
    assert project.run("build").exit_code == 0
    html = project.out / "001-first" / "email.html"
    before = html.read_bytes()
    project.write("content/alpha.md", chunk_file("alpha", kind="essay"))
    result = project.run("build")
    assert result.exit_code == 1
    assert html.read_bytes() == before


# --- files and ids that would be silently skipped ----------------------------------------


@pytest.mark.parametrize(("path", "expected"), [
    ("content/beta.markdown", "content/beta.markdown: is not read: chunk files end in .md "
                              "(hint: rename it to beta.md)"),
    ("digests/002-second.yml", "digests/002-second.yml: is not read: issue files end in .yaml "
                               "(hint: rename it to 002-second.yaml)"),
])
def test_a_file_with_the_wrong_ending_is_reported_not_skipped(project, path, expected):
    project.write(path, "anything\n")
    assert rejected(project) == [expected]


def test_chunk_id_written_with_md_says_to_drop_it(project):
    project.write(ISSUE, issue_file(chunks=("alpha.md",)))
    assert rejected(project) == [
        "digests/001-first.yaml:8: chunks[0].id: 'alpha.md' is not a chunk id "
        "(hint: write the id without '.md': alpha)"]


def test_chunk_id_that_is_a_path_is_not_a_chunk_id(project):
    project.write(ISSUE, issue_file(chunks=("../content/alpha",)))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:8: chunks[0].id: '../content/alpha' is not "
                              "a chunk id")


def test_a_project_folder_that_does_not_exist_is_refused_by_name(tmp_path):
    from click.testing import CliRunner

    from newsletter.cli import cli

    result = CliRunner().invoke(cli, ["--project", str(tmp_path / "nowhere"), "build"])
    # One Error: line and exit 1, as every bad option value (4a6220d, commands/base.py).
    assert result.exit_code == 1
    assert result.stderr == (f"Error: --project: directory {str(tmp_path / 'nowhere')!r} does not "
                             "exist (hint: give an existing folder)\n")


# --- input that would hang or crash a YAML loader -------------------------------------------


def test_yaml_alias_bomb_is_refused_not_expanded(project):
    levels = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for n in range(1, 9):
        name, previous = chr(ord("a") + n), chr(ord("a") + n - 1)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    project.write(ISSUE, issue_file() + "\n".join(levels) + "\n")
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:10: b[0]: repeats another value through "
                              "a YAML alias")


@pytest.mark.parametrize("line", ["number: !!int abc", "number: !!bool maybe",
                                  "number: " + "[" * 3000 + "]" * 3000])
def test_yaml_values_a_loader_cannot_build_are_problems(project, line):
    project.write(ISSUE, issue_file().replace("number: 1", line))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:1: ")


def test_url_with_a_stray_bracket_is_a_problem(project):
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x",
                                          'url: "https://[mindshape.io/x"'))
    assert rejected(project) == [
        "content/x.md:5: url: is not a valid address: 'https://[mindshape.io/x' "
        "(hint: check the brackets and the host name)"]


@pytest.mark.parametrize(("link", "shown"), [
    ("http://mindshape.io/a", "'http://mindshape.io/a'"),
    ("/relative/page", "'/relative/page'"),
])
def test_intro_links_must_be_https_or_mailto(project, link, shown):
    project.write(ISSUE, issue_file().replace(
        "  Hello from the editors.", f"  Hello.\n\n  See [this]({link})."))
    assert rejected(project) == [
        f"digests/001-first.yaml:8: intro: links to {shown} (hint: link to a full https:// "
        "address or a mailto: address)"]


def test_backslash_in_subject_is_refused(project):
    project.write(ISSUE, issue_file(subject="Tea \\\\ toast"))
    [problem] = rejected(project)
    assert problem.startswith("digests/001-first.yaml:3: subject: contains a backslash")


def test_list_id_name_cannot_smuggle_an_address(project):
    line = edit_config(project, r"^  name: Mindshape newsletter$",
                       "  name: 'Mindshape <a@b.example>'")
    assert rejected(project) == [
        f"newsletter.yaml:{line}: list_id.name: may not contain < > ( ) \" , ; : @ [ ] "
        "(hint: use letters, digits, spaces, hyphens and full stops)"]


def test_an_unsubscribe_body_too_long_for_a_header_is_reported_in_the_config(project):
    line = edit_config(project, r"^  unsubscribe_body: .*$", "  unsubscribe_body: " + "é" * 300)
    [problem] = rejected(project)
    assert problem.startswith(f"newsletter.yaml:{line}: signup.unsubscribe_body: makes an "
                              "unsubscribe link of ")


def test_a_superscript_digit_is_not_an_issue_number(project):
    assert rejected(project, "²") == [
        "no issue '²' (hint: name one by number or id: 1 (001-first))"]


# --- hostile characters in URLs and in what an inbox shows (issue 11) -----------------------

URL_HINT_INVISIBLE = ("delete it: it came with a pasted address and is invisible in most "
                      "editors; or type the address again")


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("https://mindshape.io/a b", "contains a space at character 23 (hint: "
                 "percent-encode spaces as %20)", id="space"),
    pytest.param("https://mindshape.io/<x>", "contains '<' at character 22 (hint: write the "
                 "bare address, without angle brackets)", id="angle-bracket"),
    pytest.param("<https://mindshape.io/x>", "contains '<' at character 1 (hint: write the "
                 "bare address, without angle brackets)", id="autolink-brackets"),
    pytest.param("https://mindshape.io/{slug}", "contains '{' at character 22 (hint: write the "
                 "real address in place of the placeholder; a '{' that belongs there is "
                 "written %7B)", id="placeholder"),
    pytest.param("https://mindshape.io/a}", "contains '}' at character 23 (hint: write the "
                 "real address in place of the placeholder; a '}' that belongs there is "
                 "written %7D)", id="closing-brace"),
    pytest.param("https://mindshape.io/a|b", "contains '|' at character 23 (hint: "
                 "percent-encode it as %7C)", id="pipe"),
    pytest.param("https://mindshape.io/a\\u200b", "contains U+200B ZERO WIDTH SPACE at "
                 f"character 23, which a link cannot carry (hint: {URL_HINT_INVISIBLE})",
                 id="zero-width-space"),
    pytest.param("https://mindshape.io/\\u202ea", "contains U+202E RIGHT-TO-LEFT OVERRIDE at "
                 f"character 22, which a link cannot carry (hint: {URL_HINT_INVISIBLE})",
                 id="bidi-override"),
    pytest.param("https://mindshape.io/a\\u2066", "contains U+2066 LEFT-TO-RIGHT ISOLATE at "
                 f"character 23, which a link cannot carry (hint: {URL_HINT_INVISIBLE})",
                 id="bidi-isolate"),
    pytest.param("https://mindshape.io/a\\ufeff", "contains U+FEFF ZERO WIDTH NO-BREAK SPACE at "
                 f"character 23, which a link cannot carry (hint: {URL_HINT_INVISIBLE})",
                 id="byte-order-mark"),
    pytest.param("https://mindshape.io/a\\u00a0b", "contains U+00A0 NO-BREAK SPACE at "
                 f"character 23, which a link cannot carry (hint: {URL_HINT_INVISIBLE})",
                 id="no-break-space"),
])
def test_a_chunk_url_with_a_character_a_link_cannot_carry_is_refused(project, url, expected):
    """The text part shows the URL as <URL>: these broke the brackets or hid in the link."""
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x", f'url: "{url}"'))
    assert rejected(project) == [f"content/x.md:5: url: {expected}"]


def test_a_url_with_letters_beyond_ascii_is_accepted(project):
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "url: https://mindshape.io/alpha", "url: https://mindshape.io/café-ü"))
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    assert "<https://mindshape.io/café-ü>" in (project.out / "001-first" / "email.txt").read_text(
        encoding="utf-8")


@pytest.mark.parametrize(("where", "pattern", "replacement", "field"), [
    pytest.param("content/x.md", None, None, "image.src", id="image-src"),
    pytest.param("newsletter.yaml", r"^site_url: .*$", 'site_url: "https://mindshape.io/\\u200b"',
                 "site_url", id="site-url"),
    pytest.param("newsletter.yaml", r"^archive_url: .*$",
                 'archive_url: "https://mindshape.io/\\u200bnewsletter/"', "archive_url",
                 id="archive-url"),
    pytest.param("newsletter.yaml", r"^    url: https://findahelpline.com$",
                 '    url: "https://findahelpline.com/\\u200b"', "footer.helpline_directory.url",
                 id="helpline-url"),
])
def test_every_url_field_refuses_an_invisible_character(project, where, pattern, replacement,
                                                        field):
    """One URL type for chunks, images and the config, not copies that drift apart."""
    if pattern is None:
        project.write("content/x.md", x_chunk(
            extra='image:\n  src: "https://mindshape.io/a\\u200b.png"\n  alt: A calm lake\n'))
        line = 10
    else:
        line = edit_config(project, pattern, replacement)
    problems = rejected(project)
    assert any(p.startswith(f"{where}:{line}: {field}: contains U+200B ZERO WIDTH SPACE at "
                            "character ") for p in problems), problems


def test_a_shortener_as_a_chunk_url_is_refused_on_its_line(project):
    project.write("content/x.md", x_chunk("url: https://mindshape.io/x",
                                          "url: https://www.bit.ly/x"))
    assert rejected(project) == [
        "content/x.md:5: url: goes through the URL shortener www.bit.ly (hint: link to the page "
        "itself: shorteners hide where a link goes and look like spam)"]


HIDDEN_HINT = "delete it: it is invisible in most editors, so retype the text around it if unsure"
BIDI = "a direction control: the text after it is shown in another order than it is written"


@pytest.mark.parametrize(("escaped", "expected"), [
    pytest.param("\\u202egnp.exe", f"contains U+202E RIGHT-TO-LEFT OVERRIDE at character 1, {BIDI}",
                 id="right-to-left-override"),
    pytest.param("Hello \\u200fthere", f"contains U+200F RIGHT-TO-LEFT MARK at character 7, {BIDI}",
                 id="right-to-left-mark"),
    pytest.param("Hi \\u2067there", f"contains U+2067 RIGHT-TO-LEFT ISOLATE at character 4, {BIDI}",
                 id="isolate"),
    pytest.param("\\ufeffHello", "contains U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1, an "
                 "invisible character", id="byte-order-mark"),
    pytest.param("Free\\u200bmoney", "contains U+200B ZERO WIDTH SPACE at character 5, an "
                 "invisible character", id="zero-width-space"),
])
@pytest.mark.parametrize(("key", "line"), [("subject", 3), ("preheader", 4)])
def test_a_hidden_character_in_the_subject_or_preheader_is_named_on_its_line(
        project, escaped, expected, key, line):
    """It used to reach the header writer at render time: no file, no line, 'line break'."""
    text = re.sub(rf"^{key}: .*$", lambda _: f'{key}: "{escaped}"', issue_file(), count=1,
                  flags=re.M)
    project.write(ISSUE, text)
    assert rejected(project) == [f"{ISSUE}:{line}: {key}: {expected} (hint: {HIDDEN_HINT})"]


def test_joiners_that_scripts_and_emoji_need_are_accepted_in_a_subject(project):
    project.write(ISSUE, issue_file(subject="Notes from the team \U0001F469\u200d\U0001F4BB"))
    assert project.run("build").exit_code == 0


@pytest.mark.parametrize(("pattern", "replacement", "field"), [
    (r"^name: Mindshape$", 'name: "Mind\\u202eshape"', "name"),
    (r"^  name: Mindshape$", '  name: "Mind\\u202eshape"', "sender.name"),
    (r"^  name: Mindshape newsletter$", '  name: "Mindshape\\u202e newsletter"', "list_id.name"),
    (r"^  subscribe_subject: .*$", '  subscribe_subject: "Subscribe\\u202e"',
     "signup.subscribe_subject"),
    (r"^  unsubscribe_subject: .*$", '  unsubscribe_subject: "Unsubscribe\\ufeff"',
     "signup.unsubscribe_subject"),
])
def test_config_text_that_becomes_a_header_refuses_hidden_characters(project, pattern,
                                                                      replacement, field):
    line = edit_config(project, pattern, replacement)
    [problem] = rejected(project)
    assert re.fullmatch(rf"newsletter\.yaml:{line}: {re.escape(field)}: contains "
                        r"U\+(202E RIGHT-TO-LEFT OVERRIDE|FEFF ZERO WIDTH NO-BREAK SPACE) at "
                        r"character \d+, .+ \(hint: delete it: .+\)", problem), problem


def test_header_text_refuses_every_character_the_header_writer_refuses():
    """mail/headers.py's guard is the last defence: validated input must never reach it."""
    from newsletter.mail import headers
    from newsletter.source import fields

    unsafe = [chr(code) for code in range(0x110000) if headers._UNSAFE_CHARS.match(chr(code))]
    assert len(unsafe) > 60
    for convert in (fields.header_text(200), fields.inbox_text(200)):
        for char in unsafe:
            with pytest.raises(fields.Invalid):
                convert(f"Hello {char}there")


def test_a_bad_link_in_the_intro_is_refused_on_its_own_line_of_a_paragraph(project):
    project.write(ISSUE, issue_file().replace(
        "  Hello from the editors.", "  Hello.\n\n  One line,\n  then [this](https://bit.ly/x)."))
    assert rejected(project) == [
        f"{ISSUE}:9: intro: links to 'https://bit.ly/x', which goes through the URL shortener "
        "bit.ly (hint: link to the page itself: shorteners hide where a link goes and look like "
        "spam)"]
