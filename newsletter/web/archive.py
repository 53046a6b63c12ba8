"""The web archive of sent issues: a page per issue where its "view in browser" link points,
an index and an Atom feed, written as a static site."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from ..checks.run import unfinished_errors
from ..errors import NewsletterError, OutputError, Problem, RenderError, display_path
from ..output import remove_leftovers, write_all_atomic
from ..render.markup import markdown_to_html
from ..render.renderer import third_party_resources
from ..source.config import Config
from ..source.models import Issue
from ..source.project import Project
from .signup import subscribe_link

# The files the last run wrote, one relative path a line: a later run removes those it no
# longer writes (an issue taken out of digests/) and nothing else, and a folder without it
# is not taken over.
MANIFEST = ".mindshape-archive"
FEED = "feed.xml"
ATOM = "http://www.w3.org/2005/Atom"


class ArchiveError(NewsletterError):
    """The archive cannot be written where asked."""


class UnfinishedIssueError(ArchiveError):
    """An issue due for the site whose text is not written yet (the placeholder intro `new`
    wrote, an empty subject): nothing is published, so no draft reaches the feed."""

    def __init__(self, findings: list[Problem], today: dt.date) -> None:
        self.findings, self.today = findings, today
        super().__init__(f"{len(findings)} issue(s) not ready to publish")

    def lines(self) -> list[str]:
        return [f"{f.where}: {f.message} (hint: {f.hint}, or date the issue after {self.today} "
                "to keep it off the site)" for f in self.findings]


@dataclass(frozen=True)
class ArchiveResult:
    folder: Path
    published: list[Issue]  # on the site, newest first
    held_back: list[Issue]  # dated after `today`: not sent yet
    written: list[Path]
    removed: list[Path]


def build_archive(project: Project, out_dir: Path, today: dt.date) -> ArchiveResult:
    """Write the site for the issues dated `today` or earlier (the ones sent) into `out_dir`.

    Every page is rendered in memory first and the files are replaced together; pages
    of issues no longer published are removed afterwards.
    """
    config = project.config
    published = sorted((i for i in project.issues if i.date <= today),
                       key=lambda i: (i.date, i.number), reverse=True)
    held_back = [i for i in project.issues if i.date > today]
    unfinished = [error for issue in published for error in unfinished_errors(project, issue)]
    if unfinished:
        raise UnfinishedIssueError(unfinished, today)
    previous = _previous_files(out_dir)
    env = _environment()
    common = {"config": config, "subscribe_url": subscribe_link(config)}
    files: dict[str, str] = {}
    articles: dict[str, str] = {}
    crisis = env.get_template("crisis.html.j2").render(**common)
    for issue in published:
        article = env.get_template("article.html.j2").render(issue=issue, **common)
        files[f"{issue.id}/index.html"] = env.get_template("issue.html.j2").render(
            issue=issue, article=article, root="../", **common)
        articles[issue.id] = article + crisis
    files["index.html"] = env.get_template("index.html.j2").render(
        issues=published, root="", **common)
    _check_no_third_party(files, config)
    files[FEED] = _feed(config, published, articles, today)
    files[MANIFEST] = "".join(f"{name}\n" for name in sorted(files) if name != MANIFEST)
    paths = {out_dir / name: text.encode("utf-8") for name, text in files.items()}
    # A web server reads these as another user: readable by all from the start.
    write_all_atomic(paths, mode=0o644)
    removed = _remove_stale(out_dir, previous - set(files))
    return ArchiveResult(out_dir, published, held_back, sorted(paths), removed)


def _previous_files(out_dir: Path) -> set[str]:
    """What the last run wrote; refuse a folder with other things in it and no manifest."""
    manifest = out_dir / MANIFEST
    if manifest.is_file():
        return {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ArchiveError(f"{display_path(out_dir)} has files that send.py archive did not "
                           "write", "name an empty or new folder with --out; the archive "
                           "replaces what it wrote there before, and nothing else")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write {display_path(out_dir)}: it is a file",
                          "name a folder with --out")
    return set()


def _remove_stale(out_dir: Path, stale: set[str]) -> list[Path]:
    removed = []
    for name in sorted(stale):
        path = out_dir / name
        # Only plain relative names from our own manifest: never a path out of the site.
        if ".." in Path(name).parts or Path(name).is_absolute():
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
        remove_leftovers(path.parent)
        with contextlib.suppress(OSError):  # the issue's folder, once empty
            if path.parent != out_dir:
                path.parent.rmdir()
    return removed


def _check_no_third_party(pages: dict[str, str], config: Config) -> None:
    site = urlsplit(config.site_url).hostname or ""
    for name, page in pages.items():
        remote = third_party_resources(page, site)
        if remote:
            raise RenderError(f"archive page {name} would load from {', '.join(remote)}",
                              f"load nothing from outside {site}")


def _feed(config: Config, issues: list[Issue], articles: dict[str, str],
          today: dt.date) -> str:
    """An Atom feed (RFC 4287) of the published issues, each with its full content."""
    feed = ET.Element("feed", {"xmlns": ATOM, "{http://www.w3.org/XML/1998/namespace}lang":
                               config.language})
    _add(feed, "id", config.archive_url)
    _add(feed, "title", config.list_id.name)
    _add(feed, "updated", _timestamp(issues[0].date if issues else today))
    _add(feed, "link", rel="self", type="application/atom+xml", href=config.archive_url + FEED)
    _add(feed, "link", rel="alternate", type="text/html", href=config.archive_url)
    author = _add(feed, "author")
    _add(author, "name", config.sender.name)
    _add(author, "uri", config.site_url)
    for issue in issues:
        entry = _add(feed, "entry")
        url = config.web_url(issue.id)
        _add(entry, "id", url)
        _add(entry, "title", issue.subject)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        _add(entry, "published", _timestamp(issue.date))
        _add(entry, "updated", _timestamp(issue.date))
        _add(entry, "summary", issue.preheader)
        _add(entry, "content", articles[issue.id], type="html")
    ET.indent(feed)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(feed, encoding="unicode") + "\n")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _timestamp(day: dt.date) -> str:
    """An issue's date as an RFC 3339 time: the issues carry days, not hours."""
    return f"{day.isoformat()}T00:00:00Z"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "archive_templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(markdown=functools.partial(markdown_to_html, link_class="inline"),
                       longdate=lambda day: f"{day.day} {day:%B %Y}")
    return env

