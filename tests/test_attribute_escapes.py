"""No Rust escape (`\\u{fe0f}`) in any attribute of an email or an archive page.

mjml-python writes attribute values through Rust's `{:?}`, so a variation selector, a
combining mark, a zero-width space or a backslash in an `alt`, `href`, `title` or
`aria-label` came out as `\\u{fe0f}`, `\\u{308}`, `\\\\`: render.escape_for_mrml writes
them as character references first. Each test compares what a browser reads back (the
HTML parsed by html.parser, references decoded) with what the editor wrote.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import unicodedata
from html.parser import HTMLParser

import pytest
from conftest import REPO, chunk_file, issue_file
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mjml import mjml2html

from newsletter.render.renderer import Renderer, escape_for_mrml
from newsletter.source.models import Image
from newsletter.source.project import load_project

# Decomposed: e + U+0308 COMBINING DIAERESIS; the heart with U+FE0F VARIATION SELECTOR-16.
TITLE = "I \u2764\ufe0f Zoe\u0308 \\ back"
ALT = "A heart \u2764\ufe0f for Zoe\u0308, a flag \U0001f3f3\ufe0f\u200d\U0001f308"
SUBJECT = "I \u2764\ufe0f Zoe\u0308"
LINK_TITLE = "Zoe\u0308 \u2764\ufe0f"


class Page(HTMLParser):
    """Every start tag's attributes and every element's text, as a browser decodes them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("img", "br", "meta", "link", "hr", "input"):
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts.setdefault(self._open[-1], []).append(data)

    def values(self, name: str) -> list[str]:
        return [attrs[name] or "" for _, attrs in self.tags if name in attrs]


def write_inputs(project) -> None:
    project.write("content/alpha.md", chunk_file("alpha", title=TITLE.replace("\\", "\\\\"),
                                                  extra="image:\n"
                                                  "  src: https://mindshape.io/images/a.png\n"
                                                  f'  alt: "{ALT}"\n'))
    project.write("digests/001-first.yaml", issue_file(subject=SUBJECT).replace(
        "  Hello from the editors.",
        f'  Hello [zero](https://mindshape.io/zero\u200bwidth "{LINK_TITLE}") from us.'))


def test_attributes_in_the_email_read_back_as_written(project):
    write_inputs(project)
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    html = (project.out / "001-first" / "email.html").read_text(encoding="utf-8")
    assert "\\u{" not in html and "\\\\" not in html
    page = Page(html)
    assert f"Read the full piece: {TITLE}" in page.values("aria-label")
    assert SUBJECT in page.values("aria-label")  # MRML copies <mj-title> onto the body
    assert ALT in page.values("alt")
    assert LINK_TITLE in page.values("title")
    # markdown-it writes the zero-width space in the link as %E2%80%8B, as a browser would.
    assert "https://mindshape.io/zero%E2%80%8Bwidth" in page.values("href")
    # Text keeps its characters as they are: only attributes are written as references.
    assert f">{TITLE}</a>" in html
    assert page.texts["title"] == [SUBJECT]


def test_attributes_in_the_archive_read_back_as_written(project):
    """The archive's pages are Jinja HTML, never compiled by MJML: nothing to escape."""
    write_inputs(project)
    result = project.run("archive", "--out", str(project.root / "site"))
    assert result.exit_code == 0, result.stderr
    pages = sorted((project.root / "site").rglob("*.html")) + [project.root / "site/feed.xml"]
    assert len(pages) == 3
    for path in pages:
        assert "\\u{" not in path.read_text(encoding="utf-8"), path
    page = Page((project.root / "site/001-first/index.html").read_text(encoding="utf-8"))
    assert f"Read the full piece: {TITLE}" in page.values("aria-label")
    assert ALT in page.values("alt")
    assert LINK_TITLE in page.values("title")


def test_every_attribute_value_and_the_title_are_escaped_and_nothing_else():
    source = ('<mjml><mj-head><mj-title>Zoe\u0308 "&amp;"</mj-title></mj-head><mj-body>'
              '<mj-image alt=\'say "e\u0308" \\\' src="https://a.example/\u200b?x=\u00e9" />'
              '<mj-text css-class="a&gt;b" title="x > \u00e9">\u00e9 e\u0308 \\ "</mj-text>'
              '</mj-body></mjml>')
    assert escape_for_mrml(source) == (
        '<mjml><mj-head><mj-title>Zoe&#x308; &#x22;&amp;&#x22;</mj-title></mj-head><mj-body>'
        '<mj-image alt=\'say &#x22;e&#x308;&#x22; &#x5c;\' '
        'src="https://a.example/&#x200b;?x=&#xe9;" />'
        '<mj-text css-class="a&gt;b" title="x > &#xe9;">\u00e9 e\u0308 \\ "</mj-text>'
        '</mj-body></mjml>')


def test_the_sample_issues_are_unchanged_by_the_escaping():
    """The templates' own attributes are ASCII: escaping changes no byte of them."""
    project = load_project(REPO)
    renderer = Renderer(REPO, project.config)
    for issue in project.issues:
        source = renderer._render_template(renderer.html_env, "digest.mjml.j2",
                                           {"issue": issue, "config": project.config,
                                            "unsubscribe_url": "mailto:x@example.org",
                                            "inbox": issue, "discreet": None})
        assert escape_for_mrml(source) == source


# Arbitrary text: combining marks, variation selectors, zero-width and direction controls,
# astral characters, private use, spaces of every kind, markup characters and backslashes.
# Left out, as HTML's character-reference rules (and so html.parser and browsers) replace or
# drop them, and the input fields refuse them: C0/C1 controls other than tab and line
# feed, noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF) and lone surrogates (not UTF-8).
def _kept(char: str) -> bool:
    code = ord(char)
    return not (unicodedata.category(char) in ("Cc", "Cs") or 0xFDD0 <= code <= 0xFDEF
                or code & 0xFFFE == 0xFFFE)


TRICKY = "\u0308\u0301\ufe0f\ufe0e\u200b\u200c\u200d\u202e\u2066\u00a0\u3000\u2028\ufeff\\\"'<>&"
ALPHABET = st.one_of(st.characters(codec="utf-8").filter(_kept), st.sampled_from(TRICKY + "\t\n"))
TEXT = st.text(ALPHABET, max_size=40)


def compile_attribute(value: str) -> str:
    source = ("<mjml><mj-head><mj-title>" + html_lib.escape(value) + "</mj-title></mj-head>"
              "<mj-body><mj-section><mj-column>"
              f'<mj-image src="https://mindshape.io/a.png" alt="{html_lib.escape(value)}" />'
              f'<mj-text><a href="https://mindshape.io/" title="{html_lib.escape(value)}">x</a>'
              f"<p>{html_lib.escape(value)}</p></mj-text>"
              "</mj-column></mj-section></mj-body></mjml>")
    return mjml2html(escape_for_mrml(source), fonts={})


@settings(max_examples=200, deadline=None)
@given(TEXT)
@example("\n\xa0")  # found by Hypothesis: no-break space is white space to MRML too
@example(" \n")  # found by Hypothesis: kept, since it does not start with the line break
@example("I \u2764\ufe0f Zoe\u0308 zero\u200bwidth \\")
def test_mjml_gives_back_any_text_in_attributes_and_as_text(value):
    html = compile_attribute(value)
    assert "\\u{" not in html
    page = Page(html)
    assert page.values("alt") == [value]
    assert page.values("title") == [value]
    assert value in page.values("aria-label")  # the body's, from <mj-title>
    assert "".join(page.texts.get("title", [])) == value
    # MRML drops a text of white space only (Unicode's, no-break space included) that starts
    # with a line break, as it does indentation; a browser shows nothing readable there either.
    shown = "" if value.startswith("\n") and not value.strip() else value
    assert "".join(page.texts.get("p", [])) == shown


@pytest.fixture(scope="module")
def sample():
    project = load_project(REPO)
    issue = project.issues[0]
    entry = next(e for e in issue.entries if e.chunk.image)
    return Renderer(REPO, project.config), issue, entry


@settings(max_examples=100, deadline=None)
@given(title=TEXT.filter(lambda t: t.strip() == t and t), alt=TEXT)
def test_the_renderer_gives_back_any_title_and_alt(sample, title, alt):
    renderer, issue, entry = sample
    chunk = dataclasses.replace(entry.chunk, title=title,
                                image=Image(entry.chunk.image.src, alt))
    issue = dataclasses.replace(issue, subject=title, entries=(
        dataclasses.replace(entry, chunk=chunk),))
    html = renderer.render(issue).html_with_slot
    assert "\\u{" not in html
    page = Page(html)
    assert f"Read the full piece: {title}" in page.values("aria-label")
    assert title in page.values("aria-label")
    assert alt in page.values("alt")
    assert "".join(page.texts["title"]) == title
