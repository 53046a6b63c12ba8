"""The CSS rule of `check`: what Gmail, Outlook for Windows or Apple Mail lack, per caniemail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.checks.css import caniemail, check_template_css, template_css

REPO = Path(__file__).resolve().parents[1]
DATE = "caniemail, data of 2026-05-13"
RADIUS_HINT = ("where it is not supported it degrades to square corners; accept it in "
               "newsletter.yaml under check.accepted_css as css-border-radius if that is fine")

# What our own templates use that a major client lacks, and why each is fine: the
# entries README asks for under check.accepted_css in newsletter.yaml.
OUR_ACCEPTED = {
    "css-border-radius": "Outlook for Windows shows square corners; nothing else changes",
    "css-at-media": "only narrow-screen padding; Outlook for Windows is a desktop client",
    "css-at-media-prefers-color-scheme": "dark mode is an extra: without it the light "
                                         "palette shows, and it passes the contrast check",
}


def templates(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def lines(findings) -> list[str]:
    return [str(finding) for finding in findings]


def test_a_property_outlook_lacks_is_a_warning_at_its_first_line(tmp_path):
    folder = templates(tmp_path, {"partials/card.mjml.j2": (
        "{# A card. #}\n"
        "<mj-text>\n"
        '  <a style="color:{{ light.accent }};border-radius:6px;">Read</a>\n'
        '  <a style="border-radius: 4px">Again</a>\n'
        "</mj-text>\n")})
    assert lines(check_template_css(folder, {})) == [
        f"warning: templates/partials/card.mjml.j2:3: CSS 'border-radius' is not supported by "
        f"Outlook for Windows ({DATE}) (hint: {RADIUS_HINT})"]


def test_css_every_client_supports_passes(tmp_path):
    folder = templates(tmp_path, {"digest.mjml.j2": (
        "<mj-style>\n"
        "  a.ms-link { color: {{ light.accent }}; text-decoration: underline; }\n"
        "  .ms-card { background-color: #ffffff; font-size: 16px; }\n"
        "</mj-style>\n"
        '<mj-section background-color="#fff" padding="8px"><mj-text font-weight="700">'
        '<p style="margin:0;padding-left:12px;font-family:Georgia,serif">Hi</p>'
        "</mj-text></mj-section>\n")})
    assert check_template_css(folder, {}) == []


def test_mjml_attributes_count_as_the_css_they_become(tmp_path):
    folder = templates(tmp_path, {"digest.mjml.j2": (
        "<mj-wrapper>\n"
        '  <mj-section background-color="{{ light.surface }}" border-radius="10px">\n')})
    assert lines(check_template_css(folder, {})) == [
        f"warning: templates/digest.mjml.j2:2: CSS 'border-radius' is not supported by Outlook "
        f"for Windows ({DATE}) (hint: {RADIUS_HINT})"]


def test_at_rules_and_what_they_hide_from_clients_that_ignore_them(tmp_path):
    # box-shadow inside @media (max-width) is lost on Outlook with the whole @media block,
    # so there it only counts for Gmail; at the top level it counts for Outlook too: one
    # finding at the first line, naming both. Apple Mail supports all of it.
    folder = templates(tmp_path, {"partials/style.mjml.j2": (
        "<mj-style>\n"
        "  @media only screen and (max-width: 479px) {\n"
        "    .ms-card { box-shadow: 0 1px 2px #000 !important; }\n"
        "  }\n"
        "  @media (prefers-color-scheme: dark) {\n"
        "    .ms-text { color: {{ dark.text }} !important; box-shadow: none; }\n"
        "  }\n"
        "  .ms-button { box-shadow: 0 1px 2px #000; }\n"
        "</mj-style>\n")})
    assert lines(check_template_css(folder, {})) == [
        f"warning: templates/partials/style.mjml.j2:2: CSS '@media' is not supported by "
        f"Outlook for Windows ({DATE}) (hint: where it is not supported it degrades to the rules "
        "inside being ignored: narrow screens get the wide layout's spacing; accept it in "
        "newsletter.yaml under check.accepted_css as css-at-media if that is fine)",
        f"warning: templates/partials/style.mjml.j2:3: CSS 'box-shadow' is not supported by "
        f"Gmail (desktop webmail) and Outlook for Windows ({DATE}) (hint: where it is not "
        "supported it degrades to no shadow; accept it in newsletter.yaml under "
        "check.accepted_css as css-box-shadow if that is fine)",
        f"warning: templates/partials/style.mjml.j2:5: CSS '@media (prefers-color-scheme)' is "
        f"not supported by Gmail (desktop webmail) and Outlook for Windows ({DATE}) (hint: where "
        "it is not supported it degrades to the light colours in dark mode (some clients invert "
        "them on their own); accept it in newsletter.yaml under check.accepted_css as "
        "css-at-media-prefers-color-scheme if that is fine)"]


def test_import_font_face_and_value_features(tmp_path):
    folder = templates(tmp_path, {"a.mjml.j2": (
        "<mj-style>\n"
        "  @import url(https://mindshape.io/a.css);\n"
        "  @font-face { font-family: 'X;{'; src: url(https://mindshape.io/x.woff2); }\n"
        "  .row { display: flex; }\n"
        "</mj-style>\n")})
    assert [(f.where, f.message) for f in check_template_css(folder, {})] == [
        ("templates/a.mjml.j2:2", f"CSS '@import' is not supported by Gmail (desktop webmail) "
                                  f"({DATE})"),
        ("templates/a.mjml.j2:3", f"CSS '@font-face' is not supported by Gmail (desktop "
                                  f"webmail) ({DATE})"),
        ("templates/a.mjml.j2:4", f"CSS 'display:flex' is not supported by Outlook for Windows "
                                  f"({DATE})"),
    ]


def test_jinja_and_comments_are_not_css(tmp_path):
    folder = templates(tmp_path, {"a.mjml.j2": (
        "{# <p style=\"box-shadow: 0 0 1px\"> #}\n"
        "<!-- <p style=\"box-shadow: 0 0 1px\"> -->\n"
        "<mj-style>\n"
        "  /* .old { box-shadow: none; } */\n"
        "  .a { color: {{ '}' }}; margin: 0; }\n"
        "</mj-style>\n"
        '<p style="{{ extra_style }}">x</p>\n')})
    assert check_template_css(folder, {}) == []


def test_accepted_features_are_quiet_and_stale_or_misspelt_entries_are_reported(tmp_path):
    folder = templates(tmp_path, {"a.mjml.j2": '<p style="border-radius:4px">x</p>\n'})
    accepted = {"css-border-radius": "square corners in Outlook are fine",
                "css-box-shadow": "was used once",
                "css-border-raduis": "a typo"}
    assert lines(check_template_css(folder, accepted)) == [
        "warning: newsletter.yaml: check.accepted_css: 'css-border-raduis' is not a caniemail "
        "CSS feature (hint: use a slug from the check's own warnings, such as css-border-radius)",
        "note: newsletter.yaml: check.accepted_css: 'css-box-shadow' is accepted, but no "
        "template needs it any more (hint: remove the entry, so a new use of it is reported "
        "again)"]


@pytest.mark.parametrize(("css", "slug"), [
    ("padding-left: 1px", "css-padding"),
    ("border-top-left-radius: 1px", "css-border-radius"),
    ("border-left: 1px solid", "css-border"),
    ("-webkit-box-shadow: none", "css-box-shadow"),
    ("--gap: 4px", "css-variables"),
    ("display: none", "css-display-none"),
    ("display: inline-block", "css-display"),
    ("margin-inline-start: 0", "css-margin-inline-start-end"),
    ("column-count: 2", "css-column-count"),
    ("top: 0", "css-left-right-top-bottom"),
])
def test_properties_map_to_caniemail_slugs(css, slug):
    assert [use.slug for use in template_css(f'<p style="{css}">')] == [slug]


def test_our_templates_pass_with_the_acceptances_readme_lists():
    # The acceptances are exactly what our templates need: none stale, none missing.
    assert check_template_css(REPO / "templates", OUR_ACCEPTED) == []
    found = {finding.hint.split(" as ")[1].split()[0]
             for finding in check_template_css(REPO / "templates", {})}
    assert found == set(OUR_ACCEPTED)


def test_the_data_names_its_source_and_date():
    data = caniemail()
    assert data["source"]["package"] == "caniemail@2.0.2 (npm)"
    assert data["source"]["data_date"].startswith("2026-05-13")
    assert data["source"]["license"].startswith("MIT")
    assert data["features"]["css-border-radius"]["support"]["outlook/windows"] == ["2019", "n #1"]
    assert all(slug.startswith("css-") for slug in data["features"])
    # The file is what the package says it is: valid JSON, one feature per line.
    text = (REPO / "newsletter" / "data" / "caniemail-css.json").read_text(encoding="utf-8")
    assert json.loads(text) == data
