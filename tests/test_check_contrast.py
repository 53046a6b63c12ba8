"""The contrast rule of `check`: the palette pairs the templates use, WCAG AA, light and dark."""

from __future__ import annotations

import pytest

from newsletter.checks.contrast import check_contrast, contrast_ratio, nearest_passing
from newsletter.source.config import load_config


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def test_our_palette_passes_in_light_and_dark(project):
    assert check_contrast(load_config(project.root)) == []


def test_a_pale_muted_grey_fails_on_both_backgrounds_it_sits_on(project):
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8").replace('muted: "#5f5b66"', 'muted: "#8a8590"')
    path.write_text(text, encoding="utf-8")
    line = line_of(text, 'muted: "#8a8590"')
    assert [str(f) for f in check_contrast(load_config(project.root))] == [
        f"error: newsletter.yaml:{line}: brand.light.muted #8a8590 on brand.light.surface #ffffff "
        "(labels and editor's notes on the cards) has a contrast of 3.59:1 in light mode, below "
        "WCAG AA's 4.5:1 for normal text (hint: darken brand.light.muted or lighten "
        "brand.light.surface; #79757f is the nearest muted that passes)",
        f"error: newsletter.yaml:{line}: brand.light.muted #8a8590 on brand.light.background "
        "#f4f1ec (the masthead and the footer) has a contrast of 3.19:1 in light mode, below "
        "WCAG AA's 4.5:1 for normal text (hint: darken brand.light.muted or lighten "
        "brand.light.background; #706c75 is the nearest muted that passes)"]


def test_links_on_the_page_background_are_held_to_aa_too(project):
    """The masthead's "view in browser", the footer's unsubscribe and the archive's links."""
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8").replace('accent: "#5b4b8a"', 'accent: "#7b6cab"')
    path.write_text(text, encoding="utf-8")
    found = [str(f) for f in check_contrast(load_config(project.root))]
    assert len(found) == 1, found
    assert ("brand.light.accent #7b6cab on brand.light.background #f4f1ec (links in the "
            "masthead, the footer and the web archive) has a contrast of 4.07:1") in found[0]


def test_a_dark_button_label_on_a_dark_accent_fails_in_dark_mode(project):
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8").replace('accent: "#c3b6f0"', 'accent: "#4a3f6b"')
    path.write_text(text, encoding="utf-8")
    line = line_of(text, 'accent_text: "#1c1b22"')
    assert [str(f) for f in check_contrast(load_config(project.root))] == [
        f"error: newsletter.yaml:{line - 1}: brand.dark.accent #4a3f6b on brand.dark.surface "
        "#2a2931 (links on the cards) has a contrast of 1.51:1 in dark mode, below WCAG AA's "
        "4.5:1 for normal text (hint: lighten brand.dark.accent or darken brand.dark.surface; "
        "#948ea8 is the nearest accent that passes)",
        f"error: newsletter.yaml:{line - 1}: brand.dark.accent #4a3f6b on brand.dark.background "
        "#1c1b22 (links in the masthead, the footer and the web archive) has a contrast of "
        "1.80:1 in dark mode, below WCAG AA's 4.5:1 for normal text (hint: lighten "
        "brand.dark.accent or darken brand.dark.background; #88809d is the nearest accent that "
        "passes)",
        f"error: newsletter.yaml:{line}: brand.dark.accent_text #1c1b22 on brand.dark.accent "
        "#4a3f6b (the 'Read the full piece' buttons) has a contrast of 1.80:1 in dark mode, "
        "below WCAG AA's 4.5:1 for normal text (hint: lighten brand.dark.accent, or make "
        "brand.dark.accent_text light: #b4b4b6 is the nearest accent_text that passes)"]


@pytest.mark.parametrize(("first", "second", "ratio"), [
    ("#000000", "#ffffff", 21.0),
    ("#ffffff", "#ffffff", 1.0),
    ("#777777", "#ffffff", 4.478),  # the classic just-failing grey
    ("#767676", "#ffffff", 4.542),  # and the lightest grey that passes
])
def test_contrast_ratio_is_wcag_21(first, second, ratio):
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.001)
    assert contrast_ratio(second, first) == pytest.approx(ratio, abs=0.001)


def test_the_suggested_colour_passes_even_when_it_must_cross_over():
    assert contrast_ratio(nearest_passing("#8a8590", "#ffffff"), "#ffffff") >= 4.5
    # Dark text on a mid-dark button: no darker text passes, a light one does.
    assert nearest_passing("#1c1b22", "#4a3f6b") == "#b4b4b6"
    assert contrast_ratio("#b4b4b6", "#4a3f6b") >= 4.5
    # On mid grey, white must become dark: black or white always passes somewhere.
    assert contrast_ratio(nearest_passing("#ffffff", "#777777"), "#777777") >= 4.5
