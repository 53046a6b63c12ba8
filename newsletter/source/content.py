"""content/*.md -> Chunk: YAML front matter validated, Markdown body kept for rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from ..errors import Problem
from . import fields as f
from .fields import FieldReader, Invalid
from .inputs import input_files, read_source
from .models import KINDS, Chunk, Image, Source
from .schema import ListOf, Section, optional, required
from .yamlsource import load_yaml

CONTENT_DIR = "content"
# Alt text that tells a screen-reader user nothing: "image", "photo of", "hero.png".
_USELESS_ALT = re.compile(
    r"(?i)(image|photo|picture|img|graphic)( of)?\.?|\S+\.(png|jpe?g|gif|webp)")


def collect_chunks(root: Path, problems: list[Problem],
                   site_host: str | None = None) -> dict[str, Chunk]:
    """The valid chunks under `root/content`, by id, appending the problems of the others.

    With `site_host`, images must be on that host or a subdomain: an image
    from anywhere else tells that host who opened the email.
    """
    chunks: dict[str, Chunk] = {}
    for path in input_files(root / CONTENT_DIR, ".md", "chunk", problems):
        chunk = read_chunk(path, problems, site_host)
        if chunk is not None:
            chunks[chunk.id] = chunk
    return chunks


def read_chunk(path: Path, problems: list[Problem], site_host: str | None = None) -> Chunk | None:
    """Parse one chunk file, appending its problems; None when it is unusable."""
    found: list[Problem] = []
    source = read_source(path, problems)
    if source is None:
        return None
    front, body, body_line = _split_front_matter(source)
    if front is None:
        message = ("front matter is not closed" if body_line else "has no front matter")
        problems.extend(found + [Problem(
            path, 1, None, message,
            "start the file with a '---' line, the fields, and another '---' line")])
        return None
    doc, yaml_problems = load_yaml(front, path, first_line=2)
    found += yaml_problems
    if doc is None:
        problems.extend(found)
        return None

    values, _ = chunk_schema(site_host).read_keys(FieldReader(doc, found))
    if not body.strip():
        found.append(Problem(path, body_line, "body", "is empty",
                             "write the chunk's Markdown below the closing '---'"))
    problems.extend(found)
    if found:  # an invalid key is always a problem found
        return None
    return Chunk(id=path.stem, path=path, body=body, **values)


@lru_cache(maxsize=4)
def chunk_schema(site_host: str | None) -> Section:
    """The front matter's keys; with `site_host`, an image must be on that host or under it."""
    return Section({
        "title": required(f.text(200)),
        "kind": required(f.choice(KINDS)),
        "date": required(f.iso_date),
        "url": required(f.https_url),
        "summary": required(f.text(600)),
        "tags": required(f.text_list),
        "content_warning": optional(f.text(300)),
        "image": Section({"src": required(_image_src(site_host)), "alt": required(_alt_text)},
                         Image, required=False),
        "sources": _OptionalList(ListOf(
            Section({"citation": required(f.text(500)), "doi": optional(f.doi),
                     "url": optional(f.https_url)}, Source),
            "must list sources, each with a 'citation:' and optionally 'doi:' and 'url:'",
            "write each as '- citation: ...' with its 'doi:' or 'url:' lines under it; leave "
            "'sources:' out when the piece has none")),
        "reviewed": optional(f.iso_date),
    })


class _OptionalList:
    """A ListOf that may be left out (no sources: an empty tuple); written, it must list one."""

    def __init__(self, items: ListOf) -> None:
        self.items = items

    def read(self, r: FieldReader, key: str) -> tuple[object, bool]:
        if not r.broken and key not in r.data:
            return (), True
        return self.items.read(r, key)


def _image_src(site_host: str | None) -> Callable[[object], str]:
    def convert(value: object) -> str:
        src = f.https_url(value)
        host = urlsplit(src).hostname or ""
        if site_host and host != site_host and not host.endswith("." + site_host):
            raise Invalid(f"is on {host}, not on the site ({site_host})",
                          "host the image on the site: an image from elsewhere tells that host "
                          "who opened the email")
        return src

    return convert


def _alt_text(value: object) -> str:
    value = f.text(250)(value)
    if _USELESS_ALT.fullmatch(value):
        raise Invalid(f"{value!r} does not describe the image",
                      "say what the image shows, as you would to someone who cannot see it")
    return value


# The schemes markdown-it refuses to link (it leaves '[z](javascript:...)' as text, which
# then reaches both parts as written): scripts, and data or files a mail app will not open.
_REFUSED_SCHEMES = ("javascript", "vbscript", "data", "file")


def link_problems(source: str, path: Path, first_line: int, field: str,
                  include: str = "all") -> list[Problem]:
    """Every link in Markdown `source` that is not to a valid https:// page or a mailto:
    address, on its line (`first_line` is the file's line of the source's first line).

    `include` is "linked" for the links markdown-it renders as links, "refused" for
    those it leaves as text (see _REFUSED_SCHEMES), or "all".
    """
    problems = []
    for href, offset in _every_link(source):
        scheme = urlsplit(href).scheme.lower() if ":" in href else ""
        refused = scheme in _REFUSED_SCHEMES
        if scheme == "mailto" or (include == "linked" and refused) \
                or (include == "refused" and not refused):
            continue
        shown = href if len(href) <= 80 else href[:77] + "..."
        if scheme == "https":
            try:
                f.https_url(href)
                continue
            except Invalid as exc:
                message, hint = f"links to {shown!r}, which {exc.message}", exc.hint
        elif refused:
            message = f"links to {shown!r}, a {scheme}: link"
            hint = ("link to a full https:// address: mail apps refuse script and data links, "
                    "and this one would show as its text")
        else:
            message = f"links to {shown!r}"
            hint = "link to a full https:// address or a mailto: address"
        problems.append(Problem(path, first_line + offset, field, message, hint))
    return problems


def body_link_problems(chunk: Chunk) -> list[Problem]:
    """link_problems of a chunk's body, on the lines of its file."""
    try:
        source = chunk.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    _, body, body_line = _split_front_matter(source)
    return link_problems(body, chunk.path, body_line, "body")


@lru_cache(maxsize=1)
def _link_finder() -> MarkdownIt:
    # As render/markup.py parses, but taking every link target: markdown-it leaves a javascript:
    # or data: link as text, and that text would reach the email as it was written.
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.validateLink = lambda url: True
    return md


def _every_link(source: str) -> list[tuple[str, int]]:
    """(href, 0-based line) of every Markdown link in `source`, refused ones included."""
    links = []
    for block in _link_finder().parse(source):
        line = block.map[0] if block.map else 0
        for token in block.children or []:
            if token.type in ("softbreak", "hardbreak"):
                line += 1
            elif token.type == "link_open":
                links.append((str(token.attrGet("href") or ""), line))
    return links


def _split_front_matter(source: str) -> tuple[str | None, str, int]:
    """Split '---\\n<yaml>\\n---\\n<body>' into (yaml, body, line where the body starts).

    Without front matter the yaml is None and the line 0; unclosed, None and 1.
    """
    source = source.removeprefix("\ufeff")
    lines = source.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None, source, 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return None, source, 1


def front_matter_line(path: Path, key: str) -> int:
    """The line of `key` in a chunk file's front matter; its first line if not found."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    front, _, _ = _split_front_matter(source)
    doc, _ = load_yaml(front, path, first_line=2) if front is not None else (None, [])
    return doc.line_of((key,)) if doc is not None else 1
