"""PNGs of an issue as subscribers see it, for a review: Debian's Chromium through Playwright."""

from __future__ import annotations

import contextlib
import html as html_lib
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import NewsletterError
from ..output import write_all_atomic
from .preview import View, render_view

# The system Chromium (Debian's `chromium` on the PATH): Playwright never downloads a browser.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_VARIABLE = "NEWSLETTER_CHROMIUM"
CHROMIUM_HINT = ("install Debian's chromium (sudo apt-get install chromium), or set "
                 f"{CHROMIUM_VARIABLE} to a Chromium or Chrome program")
# As root in CI, and without the background traffic a closed network would refuse.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# (file name, viewport width in px, colour scheme the browser reports to the email)
EMAIL_VIEWS = (("desktop-600", 600, "light"), ("phone-375", 375, "light"),
               ("dark-375", 375, "dark"))
TEXT_VIEW = ("text", 680)
# How long the site's own images may take to load before the picture is taken anyway.
LOAD_TIMEOUT_MS = 10_000


class ScreenshotError(NewsletterError):
    """The browser is missing or failed."""


@dataclass(frozen=True)
class Screenshot:
    path: Path
    width: int
    height: int


def take_screenshots(root: Path, ref: str | None, out_dir: Path | None) -> list[Screenshot]:
    """Render the issue and write a full-page PNG of each view into `out_dir`.

    The default folder is out/<issue-id>/screenshots/ in the project. Everything is
    captured first and written together, so a failure leaves the old PNGs in place.
    """
    view = render_view(root, ref)
    folder = out_dir or root / "out" / view.issue_id / "screenshots"
    site = urlsplit(view.site_url).hostname or ""
    pngs: dict[Path, bytes] = {}
    with _Browser(chromium_path()) as browser:
        for name, width, scheme in EMAIL_VIEWS:
            pngs[folder / f"{name}.png"] = _capture(browser, view.html, width, scheme, site)
        name, width = TEXT_VIEW
        pngs[folder / f"{name}.png"] = _capture(browser, _text_page(view), width, "light", "")
    write_all_atomic(pngs)
    return [Screenshot(path, *png_size(data)) for path, data in pngs.items()]


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_VARIABLE) or shutil.which("chromium") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ScreenshotError(f"Chromium not found at {path}", CHROMIUM_HINT)
    return path


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, which always comes first."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


class _Browser:
    """Playwright and the browser, both stopped on exit, errors turned into one line."""

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def __enter__(self):
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError:
            raise ScreenshotError("Playwright is not installed",
                                  "run scripts/setup to install the project's packages") from None
        self.error = Error
        self.playwright = sync_playwright().start()
        try:
            return self.playwright.chromium.launch(executable_path=self.executable,
                                                   args=CHROMIUM_ARGS)
        except Error as exc:
            self.playwright.stop()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ScreenshotError(f"Chromium at {self.executable} did not start: {first}",
                                  CHROMIUM_HINT) from None

    def __exit__(self, exc_type, exc, tb) -> None:
        self.playwright.stop()  # closes the browser too
        if isinstance(exc, self.error):
            first = str(exc).strip().splitlines()[0]
            raise ScreenshotError(f"Chromium failed: {first}",
                                  "run the command again; if it keeps failing, reinstall "
                                  "Debian's chromium") from None


def _capture(browser, html: str, width: int, scheme: str, site_host: str) -> bytes:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme,
                            device_scale_factor=1)
    try:
        # Only the site's own host may be asked for anything (the email's images).
        page.route("**/*", lambda route: route.continue_()
                   if urlsplit(route.request.url).hostname == site_host else route.abort())
        # A slow image: the picture is taken without it.
        with contextlib.suppress(PlaywrightTimeout):
            page.set_content(html, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        return page.screenshot(full_page=True, type="png")
    finally:
        page.close()


def _text_page(view: View) -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>'
            ":root{color-scheme:light}body{margin:0;background:#fff;color:#222}"
            "pre{margin:0;padding:16px;white-space:pre-wrap;overflow-wrap:anywhere;"
            'font:13px/1.45 "DejaVu Sans Mono",ui-monospace,monospace}'
            f"</style></head><body><pre>{html_lib.escape(view.text)}</pre></body></html>")

