"""digests/*.yaml + chunks -> Issue; finding the issue an editor asked for."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import IssueError, NotFoundError, Problem
from . import fields as f
from .content import CONTENT_DIR, link_problems
from .fields import FieldReader
from .inputs import ID, input_files, read_source
from .models import Chunk, Issue, IssueEntry
from .schema import Custom, Section, optional, required
from .yamlsource import YamlDocument, load_yaml

DIGESTS_DIR = "digests"
# An issue file's keys. `chunks` is read after the others are checked (_read_entries: its ids
# are resolved against content/), so its problems come last, as a reader of the file fixes
# the list once the rest is right.
ISSUE = Section({
    "number": required(f.positive_int),
    "date": required(f.iso_date),
    "subject": required(f.header_text(200)),
    "preheader": required(f.inbox_text(200)),
    "intro": required(f.text(5000, multiline=True)),
    "chunks": Custom(lambda r, key: None),
    "template": optional(f.text(60), "digest"),
})
ENTRY = Section({"id": required(f.text(120)), "note": optional(f.text(600))})
_TEMPLATE_NAME = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def load_issues(root: Path, chunks: dict[str, Chunk], templates: set[str]) -> list[Issue]:
    """Every issue under `root/digests`, by number; raise IssueError listing every problem."""
    problems: list[Problem] = []
    issues = []
    numbers: dict[int, Path] = {}
    for path in input_files(root / DIGESTS_DIR, ".yaml", "issue", problems):
        issue = read_issue(path, chunks, templates, problems, numbers, root / CONTENT_DIR)
        if issue is not None:
            issues.append(issue)
    if problems:
        raise IssueError(problems)
    return sorted(issues, key=lambda issue: issue.number)


def read_issue(path: Path, chunks: dict[str, Chunk], templates: set[str],
               problems: list[Problem], numbers: dict[int, Path],
               content_dir: Path) -> Issue | None:
    """Parse one issue file and resolve its chunk ids, appending its problems.

    `numbers` maps the issue numbers seen so far to their files, to refuse a repeat;
    `content_dir` tells an unknown chunk id from a chunk whose own file is broken.
    """
    found: list[Problem] = []
    source = read_source(path, problems)
    if source is None:
        return None
    doc, yaml_problems = load_yaml(source, path)
    found += yaml_problems
    if doc is None:
        problems.extend(found)
        return None
    r = FieldReader(doc, found)
    values, _ = ISSUE.read_keys(r)
    del values["chunks"]
    number = values["number"]
    if number is not None:
        if number in numbers:
            r.fail(("number",), f"{number} is also the number of {numbers[number].name}",
                   "give each issue its own number")
        numbers.setdefault(number, path)
    template = values["template"]
    known = template in templates and _TEMPLATE_NAME.fullmatch(template or "")
    if template is not None and not known:
        available = ", ".join(sorted(templates)) or "none"
        r.fail(("template",), f"{template!r} is not a template in templates/",
               f"use one of: {available} (each needs NAME.mjml.j2 and NAME.txt.j2)")
        values["template"] = None
    if values["intro"] is not None:
        _check_intro_links(r, values["intro"])
    entries = _read_entries(r, chunks, content_dir)
    problems.extend(found)
    if found or entries is None:  # an invalid key is always a problem found
        return None
    return Issue(id=path.stem, path=path, entries=entries, **values)


def _read_entries(r: FieldReader, chunks: dict[str, Chunk],
                  content_dir: Path) -> tuple[IssueEntry, ...] | None:
    raw = r.data.get("chunks")
    if not isinstance(raw, list) or not raw:
        r.fail(("chunks",), "must list at least one chunk id",
               "add '- id: <chunk-id>' lines, one per content/<chunk-id>.md")
        return None
    entries: list[IssueEntry] = []
    seen: set[str] = set()
    ok = True
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"id": item}
        item_reader = FieldReader(r.doc, r.problems, r.prefix + ("chunks", index), item)
        item = ENTRY.read_keys(item_reader)[0]
        chunk_id, note = item["id"], item["note"]
        if chunk_id is None:
            ok = False
            continue
        if not ID.fullmatch(chunk_id):
            hint = (f"write the id without '.md': {chunk_id.removesuffix('.md')}"
                    if chunk_id.endswith(".md") else
                    "a chunk id is its file name in content/ without '.md'")
            item_reader.fail(("id",), f"{chunk_id!r} is not a chunk id", hint)
            ok = False
            continue
        if chunk_id not in chunks and (content_dir / f"{chunk_id}.md").exists():
            item_reader.fail(("id",), f"chunk {chunk_id!r} has errors of its own",
                             f"fix content/{chunk_id}.md first")
            ok = False
            continue
        if chunk_id not in chunks:
            item_reader.fail(("id",),
                             f"unknown chunk {chunk_id!r}: there is no content/{chunk_id}.md",
                             "check the spelling against the file names in content/")
            ok = False
            continue
        if chunk_id in seen:
            item_reader.fail(("id",), f"chunk {chunk_id!r} is listed twice", "keep one of them")
            ok = False
            continue
        seen.add(chunk_id)
        entries.append(IssueEntry(chunks[chunk_id], note))
    return tuple(entries) if ok else None


def _check_intro_links(r: FieldReader, intro: str) -> None:
    """Links in the intro go to https pages or mailto: addresses, nothing else.

    A javascript: link is left to `check` (checks.email_rules.check_markdown_links):
    markdown-it renders it as text, so the built email carries no such link.
    """
    r.problems.extend(link_problems(intro, r.doc.path, intro_line(r.doc), "intro",
                                    include="linked"))


def intro_line(doc: YamlDocument) -> int:
    """The file's line of the intro's first line: a block value ('intro: |') starts on the
    line after the key."""
    return doc.line_of(("intro",)) + 1


def find_issue(issues: list[Issue], ref: str | None) -> Issue:
    """The issue named by id (file stem) or number; the latest by number when `ref` is None."""
    if not issues:
        raise NotFoundError("there are no issues in digests/",
                            "write digests/<id>.yaml (see README, 'Issue files')")
    if ref is None:
        return issues[-1]
    number = int(ref) if ref.isascii() and ref.isdigit() else None
    for issue in issues:
        if issue.id == ref or issue.number == number:
            return issue
    known = ", ".join(f"{issue.number} ({issue.id})" for issue in issues)
    raise NotFoundError(f"no issue {ref!r}", f"name one by number or id: {known}")
