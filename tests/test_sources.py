"""Research integrity (issue 15, part 2): a chunk's `sources:` and `reviewed:`, their
validation (every DOI form accepted or refused, with the reason), where they are shown (the
email's card, the text part, the archive page) and `check`'s three rules, through the CLI."""

from __future__ import annotations

import re

import pytest
from conftest import Project, chunk_file, issue_file

from newsletter.source.fields import Invalid, doi

PORGES = "Porges, S. W. (2007). The polyvagal perspective. Biological Psychology, 74(2), 116–143."


def sources(*items: str, reviewed: str | None = "2026-05-26") -> str:
    """Front-matter lines: `sources:` with the given items (already indented), and `reviewed:`."""
    lines = ("sources:\n" + "".join(items)) if items else ""
    return lines + (f"reviewed: {reviewed}\n" if reviewed else "")


def source(citation: str = PORGES, **keys: str) -> str:
    return f'  - citation: "{citation}"\n' + "".join(f"    {k}: {v}\n" for k, v in keys.items())


def with_chunk(project: Project, extra: str, kind: str = "research-breakdown",
               issue_date: str = "2026-11-17") -> Project:
    project.write("content/alpha.md", chunk_file("alpha", kind=kind, extra=extra))
    project.write("digests/001-first.yaml", issue_file(date=issue_date))
    return project


def relative(project: Project, lines: list[str]) -> list[str]:
    """Lines with the project's folder left out of their paths, as an editor in it sees them."""
    return [line.replace(f"{project.root}/", "") for line in lines]


def build(project: Project) -> tuple[str, str]:
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    folder = project.out / "001-first"
    return ((folder / "email.html").read_text(encoding="utf-8"),
            (folder / "email.txt").read_text(encoding="utf-8"))


# DOIs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "kept"), [
    ("10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("doi:10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("DOI: 10.1016/J.BIOPSYCHO.2006.06.009", "10.1016/J.BIOPSYCHO.2006.06.009"),
    ("https://doi.org/10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("http://doi.org/10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("http://dx.doi.org/10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("https://dx.doi.org/10.1016/j.biopsycho.2006.06.009", "10.1016/j.biopsycho.2006.06.009"),
    ("HTTPS://DOI.ORG/10.1000/abc", "10.1000/abc"),
    ("https://doi.org/10.1000%2Fabc", "10.1000/abc"),          # percent-encoded in a link
    ("10.1002/(SICI)1097-4679(199901)55:1;2-9", "10.1002/(SICI)1097-4679(199901)55:1;2-9"),
    ("10.123456789/x", "10.123456789/x"),                      # nine digits, the most
    ("  10.1000/x  ", "10.1000/x"),
])
def test_a_doi_in_every_accepted_form_is_kept_bare(written, kept):
    assert doi(written) == kept


@pytest.mark.parametrize(("written", "reason"), [
    ("11.1000/x", "must start with '10.', got '11.1000/x'"),
    ("10.123/x", "must have 4 to 9 digits between '10.' and '/', got '10.123/x'"),
    ("10.1234567890/x", "must have 4 to 9 digits between '10.' and '/'"),
    ("10.12a4/x", "must have 4 to 9 digits between '10.' and '/'"),
    ("10.1000", "has no suffix after '10.1000/', got '10.1000'"),
    ("10.1000/", "has no suffix after '10.1000/'"),
    ("10.1000/a b", "contains U+0020 SPACE, which Crossref's DOIs do not have (character 10 "
                    "of '10.1000/a b')"),
    ("10.1000/a#b", "contains '#', which Crossref's DOIs do not have"),
    ("10.1000/é", "contains 'é', which Crossref's DOIs do not have"),
    ("10.1000/a\u200bb", "contains U+200B ZERO WIDTH SPACE"),
    ("doi:", "has nothing after 'doi:'"),
    ("https://doi.org/", "has nothing after 'https://doi.org/'"),
    ("https://example.com/10.1000/x", "is a link to example.com, not a DOI"),
    ("ftp://doi.org/10.1000/x", "is a link to doi.org, not a DOI"),
    (10.1000, "must be text, got a number (10.1)"),
])
def test_a_bad_doi_is_refused_with_the_reason(written, reason):
    with pytest.raises(Invalid) as refused:
        doi(written)
    assert reason in refused.value.message
    assert refused.value.hint


def test_every_bad_source_value_is_reported_with_file_line_and_field(project):
    with_chunk(project, sources(
        source(doi="10.12/x"),
        source(url="http://example.com/paper"),
        "  - doi: 10.1000/x\n",
        source(doi="10.1000/ok", isbn="123"),
        reviewed="2026-02-30"))
    result = project.run("build")
    assert result.exit_code == 1
    assert relative(project, result.errors)[:5] == [
        "Error: content/alpha.md:11: sources[0].doi: must have 4 to 9 digits between '10.' and "
        "'/', got '10.12/x' (hint: copy the DOI from the article's page or its doi.org link)",
        "Error: content/alpha.md:13: sources[1].url: must be an absolute https:// address, got "
        "'http://example.com/paper' (hint: use the full address, starting with https://)",
        "Error: content/alpha.md:14: sources[2].citation: is required (hint: add a line "
        "'citation: ...')",
        "Error: content/alpha.md:17: sources[3].isbn: is not a known field (hint: remove it or "
        "fix its spelling; known fields: citation, doi, url)",
        "Error: content/alpha.md:18: reviewed: must be a date as YYYY-MM-DD, got '2026-02-30' "
        "(hint: for example 2026-11-17)"]


@pytest.mark.parametrize("written", ["sources: []\n", "sources:\n", "sources: Porges 2011\n"])
def test_sources_written_but_not_a_list_of_sources_is_an_error(project, written):
    with_chunk(project, written)
    result = project.run("build")
    assert result.exit_code == 1
    assert relative(project, result.errors)[0] == (
        "Error: content/alpha.md:9: sources: must list sources, each with a 'citation:' and "
        "optionally 'doi:' and 'url:' (hint: write each as '- citation: ...' with its 'doi:' or "
        "'url:' lines under it; leave 'sources:' out when the piece has none)")


# Where they are shown -----------------------------------------------------------------------

def _card_line(html: str) -> str:
    found = re.search(r'<a href="https://mindshape.io/alpha"[^>]*aria-label="([^"]*)"'
                      r'[^>]*>([^<]*)</a>', html)
    assert found, "the sources line links to the piece"
    return found.group(2)


def test_the_card_counts_the_sources_and_says_when_they_were_reviewed(project):
    html, _ = build(with_chunk(project, sources(source(doi="10.1016/j.biopsycho.2006.06.009"),
                                                source("Porges (2011). The Polyvagal Theory."))))
    assert _card_line(html) == "2 sources · reviewed May 2026"
    assert "10.1016" not in html  # the card counts them; the piece's page lists them


def test_one_source_is_singular_and_a_review_date_alone_is_shown(project):
    html, _ = build(with_chunk(project, sources(source(), reviewed=None)))
    assert _card_line(html) == "1 source"
    html, _ = build(with_chunk(project, sources(reviewed="2026-01-05")))
    assert _card_line(html) == "Reviewed January 2026"


def test_a_card_without_sources_or_review_date_has_no_such_line(project):
    html, text = build(with_chunk(project, "", kind="guide"))
    assert "source" not in html.lower().replace("resources", "") and "eviewed" not in html
    assert "Sources" not in text and "eviewed" not in text


def test_the_text_part_lists_the_sources_in_full(project):
    long = ("Mikulincer, M., & Shaver, P. R. (2016). Attachment in Adulthood: Structure, "
            "Dynamics, and Change (2nd ed.). Guilford Press.")
    _, text = build(with_chunk(project, sources(
        source(doi="https://doi.org/10.1016/j.biopsycho.2006.06.009"),
        source(long, url="https://www.guilford.com/books/Attachment-in-Adulthood/"))))
    block = text.split("Sources (reviewed May 2026):\n", 1)[1].split("\n\n", 1)[0]
    assert block == (
        "  - Porges, S. W. (2007). The polyvagal perspective. Biological\n"
        "    Psychology, 74(2), 116–143.\n"
        "    <https://doi.org/10.1016/j.biopsycho.2006.06.009>\n"
        "  - Mikulincer, M., & Shaver, P. R. (2016). Attachment in Adulthood:\n"
        "    Structure, Dynamics, and Change (2nd ed.). Guilford Press.\n"
        "    <https://www.guilford.com/books/Attachment-in-Adulthood/>")


def test_the_archive_page_lists_the_sources_in_full(project):
    with_chunk(project, sources(source(doi="doi:10.1016/j.biopsycho.2006.06.009"),
                                source("Porges (2011). The Polyvagal Theory. Norton.")))
    result = project.run("archive")
    assert result.exit_code == 0, result.stderr
    page = (project.root / "site" / "001-first" / "index.html").read_text(encoding="utf-8")
    items = re.findall(r"<li>(.*?)</li>", page.split('class="sources"', 1)[1].split("</ul>")[0])
    assert items == [
        f'{PORGES} <a href="https://doi.org/10.1016/j.biopsycho.2006.06.009">'
        'https://doi.org/10.1016/j.biopsycho.2006.06.009</a>',
        "Porges (2011). The Polyvagal Theory. Norton."]
    assert 'Last reviewed <time datetime="2026-05-26">26 May 2026</time>' in page


def test_the_sample_research_pieces_carry_their_sources(sample_project):
    result = sample_project.run("build", "1")
    assert result.exit_code == 0, result.stderr
    text = (sample_project.out / "001-slow-change" / "email.txt").read_text(encoding="utf-8")
    assert "Roisman, G. I., Padrón, E., Sroufe, L. A., & Egeland, B. (2002)." in text
    assert "<https://doi.org/10.1016/j.biopsycho.2006.06.009>" in text


# check's rules ------------------------------------------------------------------------------

def findings(project: Project, rule: str) -> tuple[int, list[str]]:
    result = project.run("check")
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, relative(project, [
        line for line in result.stdout.splitlines()
        if line.startswith(("error: ", "warning: ")) and rule in line])


NO_SOURCES = ("warning: content/alpha.md:3: a {kind} without sources (hint: list what it rests "
              "on under 'sources:' (each a citation, with its doi: or url: where there is one), "
              "as the site's page does)")


@pytest.mark.parametrize("kind", ["research-breakdown", "framework-deep-dive"])
def test_a_research_piece_without_sources_is_a_warning(project, kind):
    with_chunk(project, "", kind=kind)
    code, lines = findings(project, "without sources")
    assert lines == [NO_SOURCES.format(kind=kind)]
    assert code == 0
    assert project.run("check", "--strict").exit_code == 1


@pytest.mark.parametrize(("kind", "extra"), [("research-breakdown", sources(source())),
                                             ("guide", ""), ("note", "")])
def test_a_piece_with_sources_or_of_another_kind_passes(project, kind, extra):
    with_chunk(project, extra, kind=kind)
    assert findings(project, "without sources") == (0, [])


def test_a_review_over_twelve_months_before_the_issue_is_a_warning(project):
    with_chunk(project, sources(source(), reviewed="2025-11-16"))
    code, lines = findings(project, "month(s) before")
    assert lines == [
        "warning: content/alpha.md:11: reviewed 2025-11-16, over 12 month(s) before the issue "
        "(2026-11-17); the email says \"reviewed November 2025\" (hint: check the piece against "
        "its sources again and update 'reviewed:' (the limit is check.review_months in "
        "newsletter.yaml))"]
    assert code == 0


def test_a_review_twelve_months_before_the_issue_passes(project):
    with_chunk(project, sources(source(), reviewed="2025-11-17"))
    assert findings(project, "month(s) before") == (0, [])


def test_check_review_months_sets_the_limit(project):
    config = project.root / "newsletter.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\ncheck:\n" in text
    config.write_text(text.replace("\ncheck:\n", "\ncheck:\n  review_months: 6\n"),
                      encoding="utf-8")
    with_chunk(project, sources(source(), reviewed="2026-05-16"))
    assert [line.split(": reviewed ")[1][:38] for line in findings(project, "month(s)")[1]] \
        == ["2026-05-16, over 6 month(s) before the"]
    with_chunk(project, sources(source(), reviewed="2026-05-17"))
    assert findings(project, "month(s) before") == (0, [])
    config.write_text(text.replace("\ncheck:\n", "\ncheck:\n  review_months: 0\n"),
                      encoding="utf-8")
    result = project.run("check")
    assert result.exit_code == 1
    assert "review_months: must be a whole number of at least 1, got 0" in result.stdout


def test_a_review_after_the_issue_date_is_an_error(project):
    with_chunk(project, sources(source(), reviewed="2026-11-18"))
    code, lines = findings(project, "after the issue")
    assert lines == [
        "error: content/alpha.md:11: reviewed 2026-11-18, after the issue's date (2026-11-17) "
        "(hint: write the day the piece was last checked against its sources, on or before the "
        "issue's date)"]
    assert code == 1


def test_a_review_on_the_issue_date_passes(project):
    with_chunk(project, sources(source(), reviewed="2026-11-17"))
    assert findings(project, "after the issue") == (0, [])


def test_the_sample_issues_pass_the_research_rules(sample_project):
    for issue in ("1", "2"):
        result = sample_project.run("check", issue)
        assert not re.search(r"without sources|month\(s\) before|after the issue", result.stdout)
