"""`preview` in real headless Chromium: the views render, saves show up without a restart,
errors are shown in the page, and Ctrl-C stops the server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from conftest import REPO, chunk_file
from playwright import sync_api as playwright

from newsletter.commands.preview import preview
from newsletter.errors import NotFoundError
from newsletter.web.preview import Preview, force_dark

TITLE = "Turning up the volume: the hyperactivating strategy, explained"
CHUNK = "content/hyperactivating-strategy-mikulincer-shaver.md"



@contextlib.contextmanager
def serving(root: Path, ref: str | None = None):
    """The preview server on a free port, in a thread, watching before the test goes on."""
    with Preview(root, ref, 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            assert server.wait_watching(10), "the watchers did not start"
            yield server
        finally:
            server.shutdown()
            thread.join(5)


def open_preview(browser, server, width=1500):
    page = browser.new_page(viewport={"width": width, "height": 1000})
    requested: list[str] = []
    # The machine is offline: answer only the preview server, record everything.
    page.route("**/*", lambda route: (requested.append(route.request.url),
                                      route.continue_()
                                      if urlsplit(route.request.url).hostname == "127.0.0.1"
                                      else route.abort()))
    page.goto(server.url)
    page.wait_for_load_state("load")
    return page, requested


def test_the_page_shows_the_inbox_line_both_widths_dark_mode_and_the_text(
        browser, sample_project):
    with serving(sample_project.root) as server:
        page, requested = open_preview(browser, server)
        subject = "The parts of you that are trying to help"
        inbox = page.locator("#inbox-phone")
        assert inbox.locator(".subject").inner_text() == subject
        assert inbox.locator(".pre").inner_text().startswith("Anxious attachment as a strategy")
        for frame_id, width in (("view-desktop", 600), ("view-phone", 375), ("view-dark", 375)):
            frame = page.frame_locator(f"#{frame_id}")
            assert frame.locator("h1").inner_text() == subject
            assert frame.get_by_text(TITLE).is_visible()
            box = page.locator(f"#{frame_id}").bounding_box()
            assert box["width"] == width
            # Each frame is as tall as its email: nothing is cut off.
            assert box["height"] > 2000
            assert page.locator(f"#{frame_id}").evaluate(
                "f => f.contentDocument.documentElement.scrollWidth") <= width
        text = page.locator("#view-text").inner_text()
        assert subject + "\n" + "=" * len(subject) in text
        assert "In crisis? You deserve help right now:" in text
        assert page.evaluate("document.title") == f"Preview: {subject}"
        page.close()
    # The page and the email ask nothing of anyone else (issue 2 has no images).
    assert {urlsplit(url).hostname for url in requested} == {"127.0.0.1"}


def test_the_dark_view_looks_as_the_email_does_in_a_browser_set_to_dark(browser, sample_project):
    """The served dark variant against the real thing: the email with dark mode emulated."""
    with serving(sample_project.root) as server:
        script = """() => {
            const card = document.querySelector('.ms-card');
            return [getComputedStyle(document.body).backgroundColor,
                    getComputedStyle(card).backgroundColor,
                    getComputedStyle(card.querySelector('.ms-text div')).color];
        }"""
        colours = []
        for path, scheme in (("email-dark.html", "light"), ("email.html", "dark"),
                             ("email.html", "light")):
            page = browser.new_page(viewport={"width": 375, "height": 800}, color_scheme=scheme)
            page.route("**/*", lambda route: route.continue_()
                       if "127.0.0.1" in route.request.url else route.abort())
            page.goto(server.url + path)
            colours.append(page.evaluate(script))
            page.close()
    forced, emulated, light = colours
    assert forced == emulated
    assert forced != light
    assert forced[0] == "rgb(28, 27, 34)"  # brand.dark.background in newsletter.yaml


def test_a_saved_chunk_shows_up_without_a_restart(browser, sample_project):
    with serving(sample_project.root) as server:
        page, _ = open_preview(browser, server)
        desktop = page.frame_locator("#view-desktop")
        assert desktop.get_by_text(TITLE).is_visible()
        path = sample_project.root / CHUNK
        source = path.read_text(encoding="utf-8")
        path.write_text(source.replace(TITLE, "Saved a moment ago"), encoding="utf-8")
        playwright.expect(desktop.get_by_text("Saved a moment ago")).to_be_visible(timeout=10_000)
        playwright.expect(page.frame_locator("#view-dark").get_by_text(
            "Saved a moment ago")).to_be_visible()
        playwright.expect(page.locator("#view-text")).to_contain_text("Saved a moment ago")
        page.close()


def test_a_render_error_is_shown_in_the_page_and_the_fix_clears_it(browser, sample_project):
    with serving(sample_project.root) as server:
        page, _ = open_preview(browser, server)
        path = sample_project.root / CHUNK
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace("kind: research-breakdown", "kind: deep-dive"),
                        encoding="utf-8")
        alert = page.get_by_role("alert")
        playwright.expect(alert).to_contain_text("kind: must be one of", timeout=10_000)
        lines = alert.locator("li").all_inner_texts()
        assert lines[0].startswith("Error: ")
        assert re.search(r"hyperactivating-strategy-mikulincer-shaver\.md:3: kind: must be one "
                         r"of .*; got 'deep-dive' \(hint: pick one of the listed values\)",
                         lines[0])
        # The last version that rendered stays below the errors.
        assert page.frame_locator("#view-desktop").get_by_text(TITLE).is_visible()
        # A template error is shown the same way, still without a restart.
        path.write_text(good, encoding="utf-8")
        playwright.expect(alert).to_have_count(0, timeout=10_000)
        template = sample_project.root / "templates" / "digest.txt.j2"
        template.write_text(template.read_text(encoding="utf-8") + "{{ issue.nonsense }}\n",
                            encoding="utf-8")
        playwright.expect(alert).to_contain_text("digest.txt.j2", timeout=10_000)
        page.close()


def test_config_and_template_saves_rerender_even_when_saved_by_renaming(sample_project):
    """Editors that save by writing a new file and renaming it over the old one included."""
    with serving(sample_project.root) as server:
        before = _get(server.url + "version")
        config = sample_project.root / "newsletter.yaml"
        for name in ("Mindshape Weekly", "Mindshape Monthly"):  # the second save after a rename
            text = re.sub(r"(?m)^name: .*$", f"name: {name}", config.read_text(encoding="utf-8"))
            spare = config.with_name("newsletter.yaml.new")
            spare.write_text(text, encoding="utf-8")
            os.replace(spare, config)
            _wait_for(lambda name=name: name in _get(server.url + "email.txt"))
        partial = sample_project.root / "templates" / "partials" / "footer.mjml.j2"
        partial.write_text(partial.read_text(encoding="utf-8").replace(
            "No tracking pixels", "Still no tracking pixels"), encoding="utf-8")
        _wait_for(lambda: "Still no tracking pixels" in _get(server.url + "email.html"))
        assert int(_get(server.url + "version")) >= int(before) + 3


def test_a_project_with_errors_at_start_is_served_with_its_errors(project):
    project.write("content/alpha.md", chunk_file("alpha", kind="poem"))
    with serving(project.root) as server:
        page = _get(server.url)
        assert "This issue does not render" in page
        assert "kind: must be one of" in page
        assert _status(server.url + "email.html") == 404  # nothing rendered yet
        project.write("content/alpha.md", chunk_file("alpha"))
        _wait_for(lambda: "does not render" not in _get(server.url))
        assert "Title of alpha" in _get(server.url + "email.html")


def test_an_unknown_issue_is_one_error_line_before_serving(project):
    with pytest.raises(NotFoundError):
        Preview(project.root, "7", 0)
    result = CliRunner().invoke(preview, ["7", "--port", "0"], obj=project.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: no issue '7' (hint: name one by number or id: 1 (001-first))"]


def test_only_this_computer_is_served_and_other_host_names_are_refused(project):
    with serving(project.root) as server:
        assert server.server.server_address[0] == "127.0.0.1"
        assert _status(server.url, host="attacker.example") == 421
        assert _status(server.url, host=f"localhost:{server.port}") == 200


def test_a_port_in_use_is_one_error_line(project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(preview, ["--port", str(port)], obj=project.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (hint: pass another "
        "--port, or --port 0 for any free one)"]


def test_force_dark_makes_dark_rules_unconditional_and_light_ones_never_match():
    html = ('<html><head><style>@media (prefers-color-scheme: dark) { a { color: red } }'
            '@media only screen and (PREFERS-COLOR-SCHEME:light) { a { color: blue } }</style>'
            '</head></html>')
    dark = force_dark(html)
    assert "@media (min-width: 0px) { a { color: red } }" in dark
    assert "@media only screen and (max-width: -1px) { a { color: blue } }" in dark
    assert '<head><meta name="color-scheme" content="dark">' in dark


def test_ctrl_c_stops_the_server_cleanly(project):
    """As an editor runs it: a process of its own, stopped by SIGINT (what Ctrl-C sends)."""
    code = ("import sys; from pathlib import Path; "
            "from newsletter.commands.preview import preview; "
            "preview.main(['--port', '0'], obj=Path(sys.argv[1]), prog_name='send.py preview')")
    process = subprocess.Popen([sys.executable, "-c", code, str(project.root)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", first).group(0)
        assert _get(url + "version") == "1"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "Stopped."
    assert "Traceback" not in err
    with pytest.raises(urllib.error.URLError):
        _get(url)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def _status(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def _wait_for(condition, timeout: float = 10.0) -> None:
    # time.sleep, not a timed Event.wait: under libfaketime (CI's moved-clock run) a timed wait
    # on a threading primitive that nobody wakes blocks for the whole offset.
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the preview did not update in time")
