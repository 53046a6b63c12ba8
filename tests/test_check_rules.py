"""`send.py check`'s footer, mailto and image rules, each tripped and passed through the CLI."""

from __future__ import annotations

import re

from conftest import Project

MAILTO = "mailto:team@mindshape.io?body="


def findings(project: Project, rule: str) -> list[str]:
    """The finding lines of `check` that match `rule`, a regular expression."""
    result = project.run("check")
    assert "Traceback" not in result.stdout + result.stderr
    return [line for line in result.stdout.splitlines()
            if line.startswith(("error: ", "warning: ", "note: ")) and re.search(rule, line)]


def edit_template(project: Project, name: str, old: str, new: str) -> None:
    path = project.root / "templates" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_to_email(project: Project, markup: str) -> None:
    edit_template(project, "digest.mjml.j2", "<mj-column>", f"<mj-column><mj-text>{markup}"
                                                            "</mj-text>")


def test_a_mailto_link_over_2000_characters_is_an_error(project):
    href = MAILTO + "a" * (2001 - len(MAILTO))
    add_to_email(project, f'<a href="{href}">Write to us</a>')
    assert findings(project, "a mailto: link of") == [
        f"error: email: a mailto: link of 2,001 characters, over 2,000 ({href[:40]}...) (hint: "
        "many mail apps cut longer links: shorten its body)"]


def test_a_mailto_link_of_2000_characters_passes(project):
    add_to_email(project, f'<a href="{MAILTO + "a" * (2000 - len(MAILTO))}">Write to us</a>')
    assert findings(project, "a mailto: link of") == []


def test_an_unsubscribe_link_missing_from_either_part_is_an_error(project):
    edit_template(project, "partials/footer.mjml.j2",
                  '<a href="{{ unsubscribe_url }}" class="ms-link" style="color:{{ light.accent '
                  '}};">Unsubscribe</a>', "Unsubscribe")
    edit_template(project, "partials/footer.txt.j2", "<{{ unsubscribe_url }}>", "")
    assert findings(project, "the unsubscribe link") == [
        "error: email (HTML part): the unsubscribe link is missing (hint: keep "
        "{{ unsubscribe_url }} in the template)",
        "error: email (text part): the unsubscribe link is missing (hint: keep "
        "{{ unsubscribe_url }} in the template)"]


def test_an_unsubscribe_link_in_both_parts_passes(project):
    assert findings(project, "the unsubscribe link") == []


def test_a_crisis_line_missing_from_either_part_is_an_error(project):
    edit_template(project, "partials/footer.mjml.j2", "{{ line.label }}", "{{ line.where }}")
    edit_template(project, "partials/footer.txt.j2", '(line.label ~ " (" ~ line.where ~ ")")',
                  "line.where")
    lines = findings(project, "crisis line")
    assert lines[:2] == [
        "error: email (HTML part): the crisis line 988 is missing (hint: keep the footer "
        "partial in the template)",
        "error: email (text part): the crisis line 988 is missing (hint: keep the footer "
        "partial in the template)"]
    assert len(lines) == 2 * 5  # every line of newsletter.yaml, in each part


def test_the_crisis_lines_in_both_parts_pass(project):
    assert findings(project, "crisis line") == []


def test_an_image_over_http_is_an_error(project):
    # On the site's own host, so it is not refused as a third party: only this rule sees it.
    add_to_email(project, '<img src="http://mindshape.io/a.png" alt="A calm lake" />')
    assert findings(project, "the image ") == [
        "error: email: the image 'http://mindshape.io/a.png' is not https (hint: use the "
        "image's https:// address)"]


def test_an_image_over_https_with_alt_text_passes(project):
    add_to_email(project, '<img src="https://mindshape.io/a.png" alt="A calm lake" />')
    assert findings(project, "the image ") == []
