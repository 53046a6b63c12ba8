"""`archive`: the static site of sent issues, read as its readers will: in headless Chromium
over HTTP, audited by axe-core, its Atom feed parsed by feedparser (which shares nothing with
the code that wrote it)."""

from __future__ import annotations

import functools
import html
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from click.testing import CliRunner
from conftest import REPO, Project, chunk_file, issue_file

from newsletter.commands.archive import archive
from newsletter.render.markup import markdown_to_html
from newsletter.render.renderer import Renderer, third_party_resources
from newsletter.source.config import load_config
from newsletter.source.project import load_project

AXE = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
TODAY = "2026-11-28"
ATOM = "{http://www.w3.org/2005/Atom}"


def run(root: Path, *args: str):
    return CliRunner().invoke(archive, list(args), obj=root, catch_exceptions=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Project:
    """The repository's sample issues, plus issue 3 dated after TODAY, archived once."""
    root = tmp_path_factory.mktemp("archive") / "sample"
    for name in ("content", "digests", "templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    project = Project(root)
    project.write("digests/003-later.yaml", issue_file(
        3, ("ifs-protectors-and-exiles",), subject="Not out yet", date="2026-12-15"))
    result = run(root, "--today", TODAY)
    assert result.exit_code == 0, result.stderr
    project.output = result.stdout
    return project


@pytest.fixture(scope="module")
def site(sample) -> Path:
    return sample.root / "site"


@pytest.fixture(scope="module")
def served(site):
    """The site over HTTP on a free loopback port, as a web server would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}/"
        server.shutdown()
        thread.join(5)



PAGES = ["index.html", "002-parts-that-help/index.html", "001-slow-change/index.html"]


def test_the_run_says_what_it_published_and_what_waits(sample, site):
    assert sample.output.splitlines() == [
        f"Wrote {site}/ with 2 issue(s), newest first:",
        "  2026-11-17  002-parts-that-help/             The parts of you that are trying to help",
        "  2026-10-27  001-slow-change/                 Why slow change can still be real change",
        "  index.html, feed.xml (Atom)",
        "Not yet published: 003-later is dated 2026-12-15 (after today)",
    ]
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == [
        ".mindshape-archive", "001-slow-change/index.html", "002-parts-that-help/index.html",
        "feed.xml", "index.html"]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in site.rglob("*") if p.is_file())


def test_the_index_lists_the_sent_issues_newest_first(browser, served):
    page = _open(browser, served + "index.html")
    links = page.locator("ol.issues h2 a")
    assert links.all_inner_texts() == ["The parts of you that are trying to help",
                                       "Why slow change can still be real change"]
    assert "An issue appears here on the date it goes out" in page.inner_text("main")
    links.first.click()
    page.wait_for_load_state("load")
    assert page.url == served + "002-parts-that-help/index.html"
    assert page.locator("h1").inner_text() == "The parts of you that are trying to help"
    page.close()


def test_each_issue_lives_where_its_view_in_browser_link_points(sample, site):
    config = load_config(sample.root)
    for issue_id in ("001-slow-change", "002-parts-that-help"):
        url = config.web_url(issue_id)
        assert url == f"{config.archive_url}{issue_id}/"
        page = (site / issue_id / "index.html").read_text(encoding="utf-8")
        assert f'<link rel="canonical" href="{url}">' in page


def test_each_page_has_the_content_of_its_email(sample, site):
    project = load_project(sample.root)
    renderer = Renderer(project.root, project.config)
    for issue in project.issues[:2]:
        email = _text(renderer.render(issue).html_with_slot)
        page = _text((site / issue.id / "index.html").read_text(encoding="utf-8"))
        pieces = [issue.subject, f"Issue {issue.number}"]
        pieces += [_text(markdown_to_html(p)) for p in issue.intro.split("\n\n")]
        for entry in issue.entries:
            chunk = entry.chunk
            pieces += [chunk.title, chunk.kind_label, chunk.summary, entry.note,
                       chunk.content_warning]
            if chunk.image:
                assert f'alt="{html.escape(chunk.image.alt)}"' in (
                    site / issue.id / "index.html").read_text(encoding="utf-8")
        for piece in filter(None, pieces):
            assert piece in email, piece
            assert piece in page, piece


def test_every_page_has_the_crisis_lines_the_disclaimer_and_a_language(sample, browser, served):
    footer = load_config(sample.root).footer
    for name in PAGES:
        page = _open(browser, served + name)
        assert page.locator("html").get_attribute("lang") == "en"
        crisis = page.locator("section.crisis")
        assert crisis.is_visible()
        assert crisis.locator("h2").inner_text() == footer.crisis_intro
        for line in footer.crisis_lines:
            assert crisis.locator(f'a[href="{line.href}"]').inner_text() == line.label
        assert page.get_by_text(footer.disclaimer).is_visible()
        page.close()


def test_the_pages_load_nothing_from_anyone_else(sample, site, browser, served):
    for name in PAGES:
        page, requested = _open(browser, served + name, record=True)
        page.wait_for_load_state("load")
        hosts = {urlsplit(url).hostname for url in requested}
        assert hosts <= {"127.0.0.1", "mindshape.io"}, hosts  # the chunk images are the site's
        page.close()
        assert third_party_resources((site / name).read_text(encoding="utf-8"),
                                     "mindshape.io") == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violations(browser, served, scheme):
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run scripts/setup --test")
    for name in PAGES:
        page = _open(browser, served + name, scheme=scheme)
        page.add_script_tag(path=str(AXE))
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        page.close()
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], (name, scheme, bad)
        assert results["passes"], "axe ran no check"


def test_the_feed_parses_as_atom_with_an_entry_per_sent_issue(sample):
    feed = feedparser.parse((sample.root / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Mindshape newsletter"
    assert feed.feed.id == "https://mindshape.io/newsletter/"
    assert feed.feed.author_detail.name == "Mindshape"
    assert feed.feed.updated == "2026-11-17T00:00:00Z"
    assert [link.href for link in feed.feed.links] == [
        "https://mindshape.io/newsletter/feed.xml", "https://mindshape.io/newsletter/"]
    assert [entry.title for entry in feed.entries] == [
        "The parts of you that are trying to help", "Why slow change can still be real change"]
    first = feed.entries[0]
    assert first.id == first.link == "https://mindshape.io/newsletter/002-parts-that-help/"
    assert first.published_parsed[:3] == (2026, 11, 17)
    assert first.summary.startswith("Anxious attachment as a strategy")
    content = first.content[0]
    assert content.type == "text/html"
    for text in ("Protectors and exiles", "Read the full piece", "In crisis?",
                 "Educational, not diagnostic."):
        assert text in content.value


def test_the_feed_has_what_rfc_4287_requires(site):
    root = ET.parse(site / "feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None, required
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == "https://mindshape.io/newsletter/feed.xml"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "link", "content", "summary"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        for stamp in ("updated", "published"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", entry.find(f"{ATOM}{stamp}").text)


def test_subjects_are_escaped_in_pages_and_feed(project, tmp_path):
    subject = 'Fear & "love" <script>alert(1)</script>'
    quoted = subject.replace('"', '\\"')  # inside the YAML file's double quotes
    project.write("digests/001-first.yaml", issue_file(subject=quoted, date="2026-01-05"))
    assert run(project.root, "--out", str(tmp_path / "site")).exit_code == 0
    for name in ("index.html", "001-first/index.html"):
        page = (tmp_path / "site" / name).read_text(encoding="utf-8")
        assert "<script>" not in page
        assert subject in _text(page)
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert not feed.bozo
    assert feed.entries[0].title == subject


def test_a_second_run_replaces_the_site_and_drops_an_issue_taken_out(project):
    project.write("digests/002-second.yaml", issue_file(2, date="2026-02-02",
                                                        subject="The second one"))
    project.write("digests/001-first.yaml", issue_file(1, date="2026-01-05"))
    assert run(project.root).exit_code == 0  # default folder: site/ in the project
    site = project.root / "site"
    (site / "CNAME").write_text("mindshape.io\n", encoding="utf-8")  # added by hand: kept
    (project.root / "digests" / "001-first.yaml").unlink()
    project.write("content/alpha.md", chunk_file("alpha", title="A retitled piece"))
    result = run(project.root)
    assert result.exit_code == 0, result.stderr
    assert f"Removed {site}/001-first/index.html (no longer in digests/)" in result.stdout
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*")) == [
        ".mindshape-archive", "002-second", "002-second/index.html", "CNAME", "feed.xml",
        "index.html"]
    assert "A retitled piece" in (site / "002-second" / "index.html").read_text(encoding="utf-8")
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "001-first" not in index
    assert len(feedparser.parse((site / "feed.xml").read_bytes()).entries) == 1


def test_a_folder_the_archive_did_not_write_is_left_alone(project, tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(archive, ["--out", str(folder)], obj=project.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {folder} has files that send.py archive did not write (hint: name an empty or "
        "new folder with --out; the archive replaces what it wrote there before, and nothing "
        "else)"]
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_an_invalid_project_keeps_the_site_as_it_was(project):
    project.write("digests/001-first.yaml", issue_file(date="2026-01-05"))
    assert run(project.root).exit_code == 0
    before = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    project.write("content/alpha.md", chunk_file("alpha", kind="poem"))
    result = CliRunner().invoke(archive, [], obj=project.root)
    assert result.exit_code == 1
    assert "kind: must be one of" in result.stderr
    assert {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()} == before


def test_an_issue_still_a_draft_on_its_date_is_not_published(project):
    """`new` dates its proposal today: its placeholder intro must not reach the site or feed."""
    project.write("digests/001-first.yaml", issue_file(date="2026-01-05"))
    assert run(project.root, "--today", "2026-02-01").exit_code == 0
    before = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    project.write("content/beta.md", chunk_file("beta").replace("date: 2026-11-01",
                                                                "date: 2026-01-20"))
    assert project.run("new", "--date", "2026-02-01", "--force").exit_code == 0
    draft = next((project.root / "digests").glob("002-*.yaml"))
    result = CliRunner().invoke(archive, ["--today", "2026-02-01"], obj=project.root)
    assert result.exit_code == 1
    assert re.fullmatch(rf"Error: .*{draft.name}:\d+: the intro is still the placeholder `new` "
                        r"wrote \(hint: write the intro, or date the issue after 2026-02-01 to "
                        r"keep it off the site\)\n", result.stderr), result.stderr
    assert {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()} == before
    assert run(project.root, "--today", "2026-01-31").exit_code == 0  # before its date: held back


def test_before_the_first_issue_goes_out_the_site_says_so(project, tmp_path):
    result = run(project.root, "--out", str(tmp_path / "site"), "--today", "2026-01-01")
    assert result.exit_code == 0
    assert "Not yet published: 001-first is dated 2026-11-17 (after today)" in result.stdout
    assert "No issue has gone out yet." in (tmp_path / "site" / "index.html").read_text(
        encoding="utf-8")
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries == []
    assert feed.feed.updated == "2026-01-01T00:00:00Z"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _open(browser, url: str, *, scheme: str = "light", record: bool = False):
    page = browser.new_page(viewport={"width": 800, "height": 900}, color_scheme=scheme)
    requested: list[str] = []
    # Offline machine: answer only the local server, record everything asked for.
    page.route("**/*", lambda route: (requested.append(route.request.url),
                                      route.continue_()
                                      if urlsplit(route.request.url).hostname == "127.0.0.1"
                                      else route.abort()))
    page.goto(url)
    return (page, requested) if record else page


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(markup: str) -> str:
    """The text of some HTML with runs of white space as one space: what a reader reads."""
    parser = _TextOf()
    parser.feed(markup)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()
