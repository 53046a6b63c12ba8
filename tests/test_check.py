"""`send.py check`: each rule trips on one input and stays quiet on a clean one, through the CLI."""

from __future__ import annotations

import re

import pytest
from conftest import chunk_file, issue_file


def findings(project, *args: str) -> tuple[int, list[str]]:
    result = project.run("check", *args)
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(("error: ", "warning: ", "note: "))]
    return result.exit_code, lines


def rule_lines(lines: list[str], pattern: str) -> list[str]:
    return [line for line in lines if re.search(pattern, line)]


def edit_template(project, old: str, new: str, name: str = "digest.mjml.j2") -> None:
    path = project.root / "templates" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_clean_issue_has_no_errors_and_exits_0(project):
    code, lines = findings(project)
    assert code == 0, lines
    assert not [line for line in lines if line.startswith("error: ")]


def test_invalid_input_files_are_errors_with_file_and_line(project):
    project.write("content/alpha.md", chunk_file("alpha", kind="poem"))
    code, lines = findings(project)
    assert code == 1
    assert lines[0].startswith("error: ") and re.search(r"alpha\.md:3: kind: must be one of",
                                                        lines[0])


@pytest.mark.parametrize(("link", "href", "scheme"), [
    ("[x](javascript:alert(1))", "javascript:alert(1)", "javascript"),
    ("[x](JavaScript:alert(1))", "JavaScript:alert(1)", "javascript"),
    ("[x](vbscript:msgbox(1))", "vbscript:msgbox(1)", "vbscript"),
    ("[x](data:text/html,hi)", "data:text/html,hi", "data"),
    ("<javascript:alert(1)>", "javascript:alert(1)", "javascript"),
])
def test_a_script_link_in_the_intro_or_a_body_is_an_error_on_its_line(project, link, href,
                                                                       scheme):
    """markdown-it leaves such a link as text, which reached both parts as written."""
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", f"  Hello from the editors.\n\n  See {link}."))
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "Body of alpha.", f"Body of alpha,\nand then {link}."))
    code, lines = findings(project)
    assert code == 1
    shown = re.escape(href)
    assert rule_lines(lines, rf"^error: .*001-first\.yaml:8: intro: links to '{shown}', a "
                             rf"{scheme}: link \(hint: link to a full https:// address"), lines
    assert rule_lines(lines, rf"^error: .*alpha\.md:11: body: links to '{shown}', a "
                             rf"{scheme}: link \(hint: "), lines


def test_an_ordinary_link_in_the_intro_or_a_body_is_no_finding(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", "  See [this](https://mindshape.io/a) or "
                                     "[write](mailto:team@mindshape.io)."))
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "Body of alpha.", "See [this](https://mindshape.io/a)."))
    code, lines = findings(project)
    assert code == 0, lines
    assert rule_lines(lines, "links to") == []


@pytest.mark.parametrize(("link", "expected"), [
    ("[z](http://mindshape.io/a)", "links to 'http://mindshape.io/a' (hint: link to a full "
                                   "https:// address or a mailto: address)"),
    ("[z](/relative)", "links to '/relative' (hint: "),
    ("[z](https://bit.ly/x)", "links to 'https://bit.ly/x', which goes through the URL "
                              "shortener bit.ly (hint: "),
])
def test_a_bad_link_in_a_chunk_body_is_an_error_on_its_line(project, link, expected):
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "Body of alpha.", f"First line,\nsecond line,\nand {link}."))
    code, lines = findings(project)
    assert code == 1
    assert rule_lines(lines, rf"^error: .*alpha\.md:12: body: {re.escape(expected)}"), lines


def test_a_script_link_in_the_intro_is_left_as_text_by_build_and_refused_by_check(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", "  Hello [z](javascript:alert(1))."))
    assert project.run("build").exit_code == 0  # markdown-it makes no link of it
    assert 'href="javascript' not in (project.out / "001-first" / "email.html").read_text(
        encoding="utf-8")
    assert findings(project)[0] == 1


def test_a_shortener_as_a_chunk_url_is_one_error_at_its_line(project):
    """The card links to it twice (title, button): one finding, where the editor wrote it."""
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "url: https://mindshape.io/alpha", "url: https://bit.ly/abc"))
    code, lines = findings(project)
    assert code == 1
    assert rule_lines(lines, "bit.ly") == [
        f"error: {project.root / 'content' / 'alpha.md'}:5: url: goes through the URL shortener "
        "bit.ly (hint: link to the page itself: shorteners hide where a link goes and look "
        "like spam)"]


def test_a_bad_link_a_template_repeats_is_reported_once(project):
    edit_template(project, "<mj-column>", '<mj-column><mj-text><a href="https://bit.ly/abc">x</a>'
                  '<a href="https://bit.ly/abc">y</a></mj-text>')
    code, lines = findings(project)
    assert code == 1
    assert len(rule_lines(lines, "bit.ly")) == 1


def test_a_direction_control_in_the_subject_is_an_error_at_its_line(project):
    """It was an 'Error:' from the header writer at build time, with no file and line."""
    project.write("digests/001-first.yaml", issue_file(subject="\\u202egnp.exe"))
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert (f"error: {project.root / 'digests' / '001-first.yaml'}:3: subject: contains U+202E "
            "RIGHT-TO-LEFT OVERRIDE at character 1, a direction control: the text after it is "
            "shown in another order than it is written (hint: delete it: it is invisible in "
            "most editors, so retype the text around it if unsure)") in result.stdout
    assert result.stdout.splitlines()[-1] == "the input files: 1 error(s), 0 warning(s), 0 note(s)"


@pytest.mark.parametrize(("href", "expected"), [
    ("http://mindshape.io/a", "error: email: the link 'http://mindshape.io/a' is not https "
                              "(hint: link to the full https:// address)"),
    ("https://bit.ly/abc", "error: email: the link 'https://bit.ly/abc' goes through the URL "
                           "shortener bit.ly (hint: link to the page itself: shorteners hide "
                           "where a link goes and look like spam)"),
    ("javascript:alert(1)", "error: email: a javascript: link (javascript:alert(1)) (hint: mail "
                            "apps block scripts: link to a page instead)"),
])
def test_links_in_the_email_must_be_plain_https(project, href, expected):
    edit_template(project, "<mj-column>", f'<mj-column><mj-text><a href="{href}">x</a></mj-text>')
    code, lines = findings(project)
    assert code == 1
    assert expected in lines


def test_images_need_https_and_alt_text(project):
    edit_template(project, "<mj-column>",
                  '<mj-column><mj-text><img src="https://mindshape.io/a.png" alt="" /></mj-text>')
    code, lines = findings(project)
    assert code == 1
    assert ("error: email: the image 'https://mindshape.io/a.png' has no alt text (hint: say "
            "what it shows in the chunk's image.alt)") in lines


def test_a_third_party_resource_is_an_error_at_its_template_line(project):
    edit_template(project, "<mj-column>", '<mj-column><mj-text><img src="https://mindshape.io/a'
                  '.png" alt="A" /><div style="background:url(https://pixel.example/t.gif)">'
                  '</div></mj-text>')
    template = project.root / "templates" / "digest.mjml.j2"
    line = next(number for number, text in enumerate(
        template.read_text(encoding="utf-8").splitlines(), 1) if "pixel.example" in text)
    result = project.run("check")
    # The renderer refuses such an email; check reports that as a finding, in its own format.
    assert result.exit_code == 1
    assert result.stderr == ""
    assert (f"error: {template}:{line}: opening the email would load from pixel.example (hint: "
            "load nothing from outside mindshape.io: no web fonts, no remote images or "
            "stylesheets)") in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith("issue 001-first: 1 error(s), ")


def test_a_template_that_fails_still_gets_the_rules_that_need_no_email(project):
    edit_template(project, "<mj-column>", '<mj-column><mj-text><img src="https://pixel.example/'
                  't.gif" alt="A" /></mj-text>')
    project.write("digests/001-first.yaml", issue_file(subject="READ THIS NOW"))
    _, lines = findings(project)
    assert rule_lines(lines, r"^error: .*digest\.mjml\.j2:\d+: opening the email would load")
    assert rule_lines(lines, r"^warning: .*001-first\.yaml:3: the subject is in capitals")


@pytest.mark.parametrize(("subject", "expected"), [
    ("A" + " very long subject line" * 4,
     r"warning: .*001-first\.yaml:3: the subject is 93 characters; phones show about 60"),
    ("READ THIS NOW", r"warning: .*001-first\.yaml:3: the subject is in capitals"),
    ("When suicidal thoughts show up", r"warning: .*001-first\.yaml:3: the subject says "
                                       r"'suicidal' \(hint: keep the subject gentle"),
    ("Hello!! there", r"warning: .*001-first\.yaml:3: the subject has several exclamation marks"),
])
def test_subject_rules(project, subject, expected):
    project.write("digests/001-first.yaml", issue_file(subject=subject))
    code, lines = findings(project)
    assert code == 0  # warnings only
    assert rule_lines(lines, expected), lines
    assert findings(project, "--strict")[0] == 1


def test_a_calm_subject_has_no_subject_finding(project):
    _, lines = findings(project)
    assert rule_lines(lines, r"001-first\.yaml:[34]:") == []


def test_preheader_that_repeats_the_subject(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "A preheader that says a little more.", "A calm subject line"))
    _, lines = findings(project)
    assert rule_lines(lines, r"warning: .*001-first\.yaml:4: the preheader repeats the subject")


def test_a_chunk_sent_before_is_a_warning(project):
    project.write("digests/002-second.yaml", issue_file(number=2, date="2026-12-01"))
    _, lines = findings(project, "2")
    assert rule_lines(lines, r"warning: .*002-second\.yaml:8: 'alpha' was already in issue 1 "
                             r"\(001-first\)")
    _, lines = findings(project, "1")
    assert rule_lines(lines, "was already in issue") == []


def test_self_harm_words_without_a_content_warning(project):
    project.write("content/alpha.md", chunk_file("alpha").replace(
        "Body of alpha.", "When thoughts of suicide show up, reach out."))
    _, lines = findings(project)
    assert rule_lines(lines, r"warning: .*alpha\.md:10: speaks of 'suicide' without a "
                             r"content_warning")
    project.write("content/alpha.md", chunk_file(
        "alpha", extra='content_warning: "Mentions suicide."\n').replace(
        "Body of alpha.", "When thoughts of suicide show up, reach out."))
    _, lines = findings(project)
    assert rule_lines(lines, "without a content_warning") == []


def test_crisis_words_in_the_preheader_are_a_warning_as_in_the_subject(project):
    """The inbox list shows the preheader beside the subject, before any content warning."""
    project.write("digests/001-first.yaml", issue_file().replace(
        "A preheader that says a little more.", "Suicidal thoughts, and what helps."))
    _, lines = findings(project)
    assert rule_lines(lines, r"warning: .*001-first\.yaml:4: the preheader says 'Suicidal'")


def test_self_harm_in_the_intro_or_a_note_is_a_warning(project):
    """Neither comes after a content warning: a reader meets them unprepared."""
    project.write("digests/001-first.yaml", issue_file().replace(
        "Hello from the editors.", "This issue is about suicidal thoughts.").replace(
        "  - id: alpha", '  - id: alpha\n    note: "Read this if self-harm urges come back."'))
    _, lines = findings(project)
    assert rule_lines(lines, r"warning: .*001-first\.yaml:5: intro speaks of 'suicidal', and "
                             r"nothing warns the reader first")
    assert rule_lines(lines, r"warning: .*001-first\.yaml:9: chunks\[0\]\.note speaks of "
                             r"'self-harm'")
    project.write("digests/001-first.yaml", issue_file())
    _, lines = findings(project)
    assert rule_lines(lines, "nothing warns the reader first") == []
    # A note on a chunk with a content warning is shown after the warning.
    project.write("content/alpha.md", chunk_file("alpha", extra='content_warning: "Mentions '
                                                  'self-harm."\n'))
    project.write("digests/001-first.yaml", issue_file().replace(
        "  - id: alpha", '  - id: alpha\n    note: "Read this if self-harm urges come back."'))
    _, lines = findings(project)
    assert rule_lines(lines, "nothing warns the reader first") == []


def test_the_footer_missing_from_a_part_is_an_error(project):
    path = project.root / "templates" / "partials" / "footer.txt.j2"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{{ config.footer.disclaimer | wrap }}", ""), encoding="utf-8")
    code, lines = findings(project)
    assert code == 1
    assert "error: email (text part): the disclaimer is missing (hint: keep the footer partial " \
           "in the template)" in lines
    assert rule_lines(lines, r"email \(HTML part\): the disclaimer") == []


def test_an_oversized_email_is_a_warning_that_strict_fails(project):
    ids = [f"chunk-{n:02d}" for n in range(40)]
    for chunk_id in ids:
        project.write(f"content/{chunk_id}.md", chunk_file(chunk_id, summary="word " * 80))
    project.write("digests/001-first.yaml", issue_file(chunks=tuple(ids)))
    code, lines = findings(project)
    assert code == 0
    assert rule_lines(lines, r"warning: email: the HTML is \d+\.\d KB; Gmail clips over 102 KB")
    assert findings(project, "--strict")[0] == 1


def test_build_stops_on_the_errors_check_finds(project):
    edit_template(project, "<mj-column>", '<mj-column><mj-text><a href="http://x.example/">x'
                  '</a></mj-text>')
    result = project.run("build")
    assert result.exit_code == 1
    assert result.errors[0] == ("Error: email: the link 'http://x.example/' is not https (hint: "
                                "link to the full https:// address)")
    assert not project.out.exists()
