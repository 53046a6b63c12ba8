"""The built HTML in a real browser (Debian's Chromium through Playwright), as a reader sees it."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest


@pytest.fixture(scope="module")
def sample_html(tmp_path_factory):
    from conftest import REPO, Project

    root = tmp_path_factory.mktemp("browser")
    for name in ("content", "digests", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    project = Project(root)
    assert project.run("build", "1").exit_code == 0  # issue 1 has an image
    return project.out / "001-slow-change" / "email.html"


def open_page(browser, html_path, width, dark=False):
    page = browser.new_page(viewport={"width": width, "height": 900},
                            color_scheme="dark" if dark else "light")
    requested: list[str] = []
    # Record every request and answer none from the network: the machine is offline anyway.
    page.route("**/*", lambda route: (requested.append(route.request.url),
                                      route.continue_() if route.request.url.startswith("file:")
                                      else route.abort()))
    page.goto(html_path.as_uri())
    return page, requested


@pytest.mark.parametrize("width", [600, 375, 320])
def test_no_sideways_scrolling_at_desktop_and_phone_widths(browser, sample_html, width):
    page, _ = open_page(browser, sample_html, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


def test_cards_use_the_600px_column_on_desktop_and_the_screen_on_phones(browser, sample_html):
    widths = {}
    for viewport in (800, 375):
        page, _ = open_page(browser, sample_html, viewport)
        widths[viewport] = page.evaluate(
            "Math.round(document.querySelector('.ms-card').getBoundingClientRect().width)")
        page.close()
    assert 560 <= widths[800] <= 600
    assert 340 <= widths[375] <= 375


def test_every_chunk_title_is_visible(browser, sample_html):
    page, _ = open_page(browser, sample_html, 375)
    titles = page.locator("h2").all_inner_texts()
    assert len(titles) == 4
    for title in titles:
        assert page.get_by_text(title, exact=True).first.is_visible()
    page.close()


def test_preheader_is_hidden(browser, sample_html):
    page, _ = open_page(browser, sample_html, 600)
    preheader = page.locator(".ms-preheader")
    expected = (sample_html.parents[2] / "digests" / "001-slow-change.yaml").read_text(
        encoding="utf-8").split("preheader: ")[1].splitlines()[0].strip('"')
    assert preheader.text_content().rstrip("\xad\xa0") == expected
    assert preheader.is_hidden()
    assert page.get_by_text(expected).count() == 1  # only the hidden copy
    page.close()


def test_dark_mode_changes_background_and_keeps_text_readable(browser, sample_html):
    colours = {}
    for dark in (False, True):
        page, _ = open_page(browser, sample_html, 600, dark=dark)
        colours[dark] = page.evaluate("""() => {
            const card = document.querySelector('.ms-card');
            const text = card.querySelector('.ms-text div');
            return [getComputedStyle(document.body).backgroundColor,
                    getComputedStyle(card).backgroundColor,
                    getComputedStyle(text).color];
        }""")
        page.close()
    assert colours[False][0] != colours[True][0]
    body, card, text = (_rgb(c) for c in colours[True])
    assert _luminance(body) < 0.05 and _luminance(card) < 0.1, "dark backgrounds"
    assert _contrast(text, card) >= 4.5, "WCAG AA text contrast in dark mode"
    body, card, text = (_rgb(c) for c in colours[False])
    assert _contrast(text, card) >= 4.5, "WCAG AA text contrast in light mode"


def test_the_page_requests_nothing_from_a_third_party(browser, sample_html):
    page, requested = open_page(browser, sample_html, 600)
    page.wait_for_load_state("load")
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("file:")}
    assert hosts <= {"mindshape.io"}, hosts
    page.close()


def _rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def _luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
