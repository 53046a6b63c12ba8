"""content/*.md -> Chunk: YAML front matter validated, Markdown body kept for rendering."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from . import fields as f
from .errors import Problem
from .fields import FieldReader, Invalid
from .inputs import input_files, read_source
from .models import KINDS, Chunk, Image
from .yamlsource import load_yaml

CONTENT_DIR = "content"
CHUNK_FIELDS = ("title", "kind", "date", "url", "summary", "tags", "content_warning", "image")
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

    r = FieldReader(doc, found)
    r.reject_unknown(CHUNK_FIELDS)
    values = {
        "title": r.required("title", f.text(200)),
        "kind": r.required("kind", f.choice(KINDS)),
        "date": r.required("date", f.iso_date),
        "url": r.required("url", f.https_url),
        "summary": r.required("summary", f.text(600)),
        "tags": r.required("tags", f.text_list),
        "content_warning": r.optional("content_warning", f.text(300)),
        "image": _read_image(r, site_host),
    }
    if not body.strip():
        found.append(Problem(path, body_line, "body", "is empty",
                             "write the chunk's Markdown below the closing '---'"))
    problems.extend(found)
    required = ("title", "kind", "date", "url", "summary", "tags")
    if found or any(values[key] is None for key in required):
        return None
    return Chunk(id=path.stem, path=path, body=body, **values)


def _read_image(r: FieldReader, site_host: str | None) -> Image | None:
    section = r.section("image", required=False)
    if section is None:
        return None
    section.reject_unknown(("src", "alt"))
    src = section.required("src", f.https_url)
    host = (urlsplit(src).hostname or "") if src else ""
    if src and site_host and host != site_host and not host.endswith("." + site_host):
        section.fail(("src",), f"is on {host}, not on the site ({site_host})",
                     "host the image on the site: an image from elsewhere tells that host "
                     "who opened the email")
        src = None
    alt = section.required("alt", _alt_text)
    return Image(src, alt) if src and alt else None


def _alt_text(value: object) -> str:
    value = f.text(250)(value)
    if _USELESS_ALT.fullmatch(value):
        raise Invalid(f"{value!r} does not describe the image",
                      "say what the image shows, as you would to someone who cannot see it")
    return value


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
