"""What a subscriber sees in both parts of a built issue."""

from __future__ import annotations

import contextlib
import html as html_lib
import os
import re
from pathlib import Path

import pytest
from conftest import chunk_file, issue_file

WARNED = 'content_warning: "Mentions self-harm."\n'


def built(project, issue: str | None = None) -> tuple[str, str]:
    args = ["build"] + ([issue] if issue else [])
    result = project.run(*args)
    assert result.exit_code == 0, result.stderr
    folder = next(project.out.iterdir())
    return ((folder / "email.html").read_text(encoding="utf-8"),
            (folder / "email.txt").read_text(encoding="utf-8"))


def visible_text(html: str) -> str:
    """The HTML's text as a reader sees it: tags dropped, entities decoded, spaces folded."""
    html = re.sub(r"<(style|title)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_every_chunk_shows_kind_title_teaser_and_link_in_both_parts(sample_project):
    html, text = built(sample_project, "2")
    issue_file = sample_project.root / "digests" / "002-parts-that-help.yaml"
    chunk_ids = re.findall(r"- id: (\S+)", issue_file.read_text(encoding="utf-8"))
    assert len(chunk_ids) >= 4
    shown = visible_text(html)
    for chunk_id in chunk_ids:
        source = (sample_project.root / "content" / f"{chunk_id}.md").read_text(encoding="utf-8")
        title = re.search(r'^title: "?(.+?)"?$', source, re.M).group(1)
        url = re.search(r"^url: (\S+)$", source, re.M).group(1)
        assert title in shown
        assert f'href="{url}"' in html
        assert title in " ".join(text.split())
        assert f"<{url}>" in text


def test_editor_note_appears_in_both_parts(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  - id: alpha", "  - id: alpha\n    note: \"Read this one slowly.\""))
    html, text = built(project)
    assert "Editor’s note: Read this one slowly." in visible_text(html)
    assert "Editor's note: Read this one slowly." in text


def test_content_warning_comes_before_the_teaser_in_both_parts(project):
    project.write("content/alpha.md", chunk_file("alpha", summary="The teaser text.", extra=WARNED))
    html, text = built(project)
    shown = visible_text(html)
    assert shown.index("Content warning: Mentions self-harm.") < shown.index("The teaser text.")
    assert text.index("[Content warning: Mentions self-harm.]") < text.index("The teaser text.")


def test_a_chunk_without_warning_shows_none(project):
    html, text = built(project)
    assert "Content warning" not in visible_text(html)
    assert "Content warning" not in text


@pytest.mark.parametrize("needle", ["988 (US/CA)", "116 123 (UK/IE Samaritans)",
                                    "13 11 14 (AU Lifeline)", "112 (EU)", "text HOME to 741741",
                                    "findahelpline.com", "Educational, not diagnostic."])
def test_crisis_footer_and_disclaimer_in_both_parts(project, needle):
    html, text = built(project)
    assert needle in visible_text(html)
    assert needle in text


def test_unsubscribe_is_a_mailto_link_in_both_parts(project):
    html, text = built(project)
    link = ("mailto:team@mindshape.io?subject=Unsubscribe%20from%20the%20Mindshape%20newsletter"
            "&body=Please%20remove%20me%20from%20the%20Mindshape%20newsletter.")
    assert f'href="{html_lib.escape(link)}"' in html
    assert ">Unsubscribe</a>" in html
    assert f"<{link}>" in text
    assert "Unsubscribe" in text


def test_crisis_numbers_are_tappable(project):
    html, _ = built(project)
    for href in ("tel:988", "tel:116123", "tel:131114", "tel:112", "sms:741741?&body=HOME"):
        assert f'href="{html_lib.escape(href)}"' in html


def test_hostile_title_is_shown_literally_never_executed(project):
    hostile = "<script>alert(1)</script> {{ 7*7 }} {% raw %}"
    project.write("content/alpha.md", chunk_file("alpha", title=hostile.replace('"', '\\"'),
                                                 summary="<img src=x onerror=alert(1)> {{ 6*7 }}"))
    project.write("digests/001-first.yaml", issue_file(subject="{{ 7*7 }} <b>bold</b>"))
    html, text = built(project)
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile in visible_text(html)
    assert "<img src=x onerror=alert(1)> {{ 6*7 }}" in visible_text(html)
    assert "49" not in visible_text(html) and "42" not in visible_text(html)
    assert hostile in text
    assert "{{ 7*7 }} <b>bold</b>" in text
    assert "<title>{{ 7*7 }} &lt;b&gt;bold&lt;/b&gt;</title>" in html


def test_markdown_in_the_intro_cannot_add_markup_or_script(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.",
        "  Hi <script>alert(1)</script> [bad](javascript:alert(1)) [good](https://mindshape.io/x)"))
    html, text = built(project)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert 'href="https://mindshape.io/x"' in html
    assert "good <https://mindshape.io/x>" in " ".join(text.split())


def test_unicode_survives_to_both_parts(project):
    title = "Café — 日本語 and a seedling 🌱"
    project.write("content/alpha.md", chunk_file("alpha", title=title, summary="Naïve résumé 🙂"))
    html, text = built(project)
    assert title in visible_text(html) and title in text
    assert "Naïve résumé 🙂" in visible_text(html) and "Naïve résumé 🙂" in text


def test_text_part_is_wrapped_at_72_columns_without_breaking_urls(sample_project):
    _, text = built(sample_project, "2")
    for line in text.splitlines():
        if len(line) > 72:
            # Only an unbreakable token (a URL) may be longer, on a line of its own.
            assert re.fullmatch(r"<\S+>", line), line


def test_text_part_headings_are_underlined(sample_project):
    _, text = built(sample_project, "2")
    lines = text.splitlines()
    subject = "The parts of you that are trying to help"
    assert lines[lines.index(subject) + 1] == "=" * len(subject)


def test_html_has_language_preheader_and_dark_mode(project):
    html, _ = built(project)
    assert re.search(r'<html lang="en"', html)
    preheader = re.search(r'<div class="ms-preheader" style="display:none;mso-hide:all;">'
                          r'([^<]*)</div>', html)
    assert preheader
    # The preheader, then filler so inbox previews stop there: soft hyphens and no-break
    # spaces, which text browsers show as blank (U+034F and U+200C showed as symbols).
    shown, filler = preheader.group(1).split("&#173;", 1)
    assert shown == "A preheader that says a little more."
    assert set(html_lib.unescape("&#173;" + filler)) == {"\xad", "\xa0"}
    # No colour of its own: white text on the background was SpamAssassin's low contrast.
    assert "color" not in html[preheader.start():preheader.start() + 80]
    assert "@media (prefers-color-scheme: dark)" in html
    assert '<meta name="color-scheme" content="light dark"' in html


def test_every_image_has_alt_text(sample_project):
    html, _ = built(sample_project, "1")
    images = re.findall(r"<img\b[^>]*>", html)
    assert images, "the sample issue 1 has an image"
    for tag in images:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and alt.group(1).strip(), tag


def test_no_request_to_any_third_party(project, sample_project):
    for proj in (project, sample_project):
        html, _ = built(proj)
        assert "fonts.googleapis" not in html
        assert "<link" not in html.lower() and "@import" not in html.lower()
        resources = re.findall(r'(?:src|background)="([^"]+)"|url\(([^)]+)\)', html)
        for src in (a or b for a, b in resources):
            assert src.startswith("https://mindshape.io/"), src


def test_a_font_that_mjml_would_fetch_from_google_is_not_fetched(project):
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "font_stack: \"-apple-system,", "font_stack: \"Roboto, Lato, 'Open Sans', -apple-system,"),
        encoding="utf-8")
    html, _ = built(project)
    assert "Roboto" in html
    assert "googleapis" not in html and "<link" not in html


def test_each_issue_is_its_own_folder(sample_project):
    assert sample_project.run("build", "1").exit_code == 0
    assert sample_project.run("build", "2").exit_code == 0
    names = sorted(p.name for p in sample_project.out.iterdir())
    assert names == ["001-slow-change", "002-parts-that-help"]
    for name in names:
        assert sorted(p.name for p in (sample_project.out / name).iterdir()) == [
            "email.eml", "email.html", "email.txt"]


def test_templates_dir_is_used_not_a_copy_in_the_package(project):
    template = project.root / "templates" / "digest.txt.j2"
    template.write_text(template.read_text(encoding="utf-8") + "Edited by the editor.\n",
                        encoding="utf-8")
    _, text = built(project)
    assert text.rstrip().endswith("Edited by the editor.")


def test_template_error_names_template_and_line(project):
    template = project.root / "templates" / "digest.txt.j2"
    template.write_text("Line one\n{{ issue.subject\n", encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1
    assert len(result.errors) == 1
    assert re.search(r"digest\.txt\.j2:2: template syntax error", result.errors[0])
    assert not project.out.exists()


def test_unknown_template_variable_is_an_error_not_blank(project):
    template = project.root / "templates" / "digest.txt.j2"
    template.write_text("{{ issue.subjcet }}\n", encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1
    assert "subjcet" in result.errors[0]
    assert not project.out.exists()


def test_broken_mjml_is_an_error_with_the_template_name(project):
    template = project.root / "templates" / "digest.mjml.j2"
    template.write_text("<mjml><mj-body><mj-section></mj-body></mjml>", encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1
    assert re.search(r"digest\.mjml\.j2: MJML did not compile", result.errors[0])
    assert not project.out.exists()


def test_issue_can_choose_another_template(project):
    for suffix in ("mjml.j2", "txt.j2"):
        source = (project.root / "templates" / f"digest.{suffix}").read_text(encoding="utf-8")
        (project.root / "templates" / f"special.{suffix}").write_text(
            source.replace("Read the full piece", "Open the special piece"), encoding="utf-8")
    project.write("digests/001-first.yaml", issue_file(extra="template: special\n"))
    html, text = built(project)
    assert "Open the special piece" in html and "Open the special piece" in text


def test_unchanged_input_gives_identical_html_and_text(project, tmp_path: Path):
    first = built(project)
    second = built(project)
    assert first == second


def test_each_read_link_names_its_piece_for_screen_readers(sample_project):
    html, _ = built(sample_project, "2")
    labels = re.findall(r'aria-label="Read the full piece: ([^"]+)"', html)
    assert len(labels) == 4 and len(set(labels)) == 4
    assert html_lib.unescape(labels[0]) == (
        "Turning up the volume: the hyperactivating strategy, explained")


def test_markdown_image_in_the_intro_is_never_fetched(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", "  Hello ![](https://mindshape.io/pixel.gif) there."))
    html, _ = built(project)
    assert "<img" not in html


@pytest.mark.parametrize(("snippet", "host"), [
    ('<mj-image src="https://cdn.example.com/a.png" alt="A calm lake" />', "cdn.example.com"),
    ('<mj-text><div style="background:url(https://tracker.example/p.gif)">x</div></mj-text>',
     "tracker.example"),
    # A browser decodes references in an attribute before reading it as a URL or as CSS.
    ('<mj-image src="https&#x3a;//cdn.example.com/a.png" alt="A calm lake" />',
     "cdn.example.com"),
    ('<mj-text><div style="background:url(https&#58;//tracker.example/p.gif)">x</div></mj-text>',
     "tracker.example"),
    # Non-ASCII in an attribute reaches MJML as references (render.escape_for_mrml).
    ('<mj-image src="https://cdn.ex\u00e4mple.com/a.png" alt="A calm lake" />',
     "cdn.ex\u00e4mple.com"),
])
def test_a_template_that_would_load_from_a_third_party_is_refused(project, snippet, host):
    template = project.root / "templates" / "digest.mjml.j2"
    source = template.read_text(encoding="utf-8")
    template.write_text(source.replace("<mj-column>", "<mj-column>" + snippet, 1),
                        encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1
    assert re.search(r"digest\.mjml\.j2: opening the email would load from "
                     + re.escape(host) + r" \(hint", result.errors[0]), result.errors
    assert not project.out.exists()


def test_css_words_in_content_are_shown_not_stripped(project):
    project.write("content/alpha.md", chunk_file("alpha", summary="We @import url(nothing); ok"))
    html, text = built(project)
    assert "We @import url(nothing); ok" in visible_text(html)
    assert "We @import url(nothing); ok" in text


def test_an_error_inside_a_template_expression_names_the_line(project):
    template = project.root / "templates" / "digest.txt.j2"
    template.write_text("ok\n{{ issue.number / 0 }}\n", encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1
    assert re.search(r"digest\.txt\.j2:2: ZeroDivisionError", result.errors[0]), result.errors
    assert not project.out.exists()


def test_an_empty_heading_in_the_intro_is_fine(project):
    project.write("digests/001-first.yaml", issue_file().replace(
        "  Hello from the editors.", "  #\n\n  Hello."))
    _, text = built(project)
    assert "Hello." in text


def test_wide_characters_wrap_by_screen_columns(project):
    title = "日本語" * 30
    project.write("content/alpha.md", chunk_file("alpha", title=title, summary="要約" * 50))
    _, text = built(project)
    from newsletter.render.markup import display_width

    for line in text.splitlines():
        assert display_width(line) <= 72 or re.fullmatch(r"<\S+>", line), line
    title_lines = text.split("GUIDE\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "".join(title_lines[:-1]) == title
    assert display_width(title_lines[-1]) == max(display_width(x) for x in title_lines[:-1])


def test_a_template_edited_after_a_build_is_used_though_compiled_copies_are_kept(project):
    built(project)
    assert list((project.root / ".cache").glob("templates-*/*"))  # compiled copies kept
    template = project.root / "templates" / "digest.txt.j2"
    source = template.read_text(encoding="utf-8")
    assert "Read the full piece" in source
    stat = template.stat()
    # Same length and the old modification time: the cache must look at the content.
    template.write_text(source.replace("Read the full piece", "Open the full piece"),
                        encoding="utf-8")
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _, text = built(project)
    assert "Open the full piece" in text and "Read the full piece" not in text


def test_a_project_where_the_cache_cannot_be_written_still_builds(project):
    (project.root / ".cache").write_text("not a folder", encoding="utf-8")
    html, text = built(project)
    assert "</html>" in html and text.strip()


def test_a_template_cache_on_a_full_disk_does_not_stop_a_build(project, small_disk):
    """Compiled templates are a convenience: when they cannot be written, Jinja compiles
    them again next time, and the email is built all the same."""
    (project.root / ".cache").symlink_to(small_disk)
    with (small_disk / "filler").open("wb", buffering=0) as filler, \
            contextlib.suppress(OSError):
        while True:  # until the disk is full
            filler.write(b"x" * 65536)
    html, text = built(project)
    assert "</html>" in html and text.strip()
    assert not [p for p in small_disk.rglob("*") if p.is_file() and p.name != "filler"
                and p.stat().st_size]
