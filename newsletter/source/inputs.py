"""Finding and reading the editor's input files, with every problem reported, not raised."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Problem

# The email templates: NAME.mjml.j2 (HTML, through MJML) and NAME.txt.j2 (plain text).
TEMPLATES_DIR = "templates"

# Ids are file stems: also used as folder names under out/, so nothing path-like.
ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# Endings an editor might reasonably give a file meant to be read.
_NEAR_MISSES = {".markdown", ".mdown", ".txt", ".yml", ".yaml", ".md"}


def input_files(folder: Path, suffix: str, what: str, problems: list[Problem]) -> list[Path]:
    """The `*suffix` files of `folder` whose stem is a usable id, sorted.

    Hidden files (editor locks and backups such as '.#x.md' or '.~lock x.yaml')
    are skipped; a file with a near-miss ending or a bad name is a problem, not
    silently left out. `folder` is a folder of the project (its parent): a link
    out of the project, the folder's or a file's, is a problem and is not read.
    """
    root = folder.parent
    if link_out_of_project(folder, root, problems) or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not (path.is_file() or path.is_symlink()):
            continue
        if link_out_of_project(path, root, problems):
            continue
        if path.suffix.lower() != suffix:
            if path.suffix.lower() in _NEAR_MISSES:
                problems.append(Problem(path, None, None,
                                        f"is not read: {what} files end in {suffix}",
                                        f"rename it to {path.stem}{suffix}"))
            continue
        if path.suffix != suffix or not ID.fullmatch(path.stem):
            problems.append(Problem(path, None, None,
                                    f"file name {path.name!r} is not a usable {what} id",
                                    f"use lowercase letters, digits and hyphens ending in "
                                    f"{suffix}, like protest-behaviour{suffix}"))
            continue
        found.append(path)
    return found


def link_out_of_project(path: Path, root: Path, problems: list[Problem] | None = None) -> bool:
    """Whether following the links in `path` (a path under `root`) leaves the project.

    Links inside the project are followed: a chunk may be a link to another folder
    of it. A link out of it is refused, never followed: whatever it points at (a
    private note, another project's templates) would be mailed to every subscriber,
    and nothing in the project would show it. The problem names the link itself,
    the first part of `path` that leads out (a linked content/ rather than each file).
    """
    base = root.resolve()
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if not current.is_symlink():
            continue
        try:
            target = current.resolve()
        except (OSError, RuntimeError):  # a loop of links: read_source says it can't be read
            return False
        if not target.is_relative_to(base):
            if problems is not None:
                problems.append(outside_problem(current, target))
            return True
    return False


def outside_problem(link: Path, target: Path) -> Problem:
    return Problem(link, None, None, f"is a link to {target}, outside the project; a link "
                   "out of the project is not followed, so nothing from elsewhere is mailed",
                   "copy what it points at into the project")


def read_source(path: Path, problems: list[Problem]) -> str | None:
    """The text of an input file, or None with a problem saying why it can't be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(path, None, None, "does not exist (a broken link?)",
                                "remove it or point it at a real file"))
        return None
    except OSError as exc:
        problems.append(Problem(path, None, None, f"cannot be read: {exc.strerror}",
                                "check the file's permissions"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.append(Problem(path, line, None, f"is not UTF-8 text ({exc.reason})",
                                "save the file as UTF-8"))
        return None


# Templates that are not an issue's: the welcome message has its own context (no entries).
NOT_ISSUE_TEMPLATES = frozenset({"welcome"})


def available_templates(root: Path) -> set[str]:
    """Issue template names that have both parts: NAME.mjml.j2 and NAME.txt.j2.

    Here, not in render/: an issue naming a missing template is an input problem, found
    when the project loads.
    """
    folder = root / TEMPLATES_DIR
    html_names = {p.name.removesuffix(".mjml.j2") for p in folder.glob("*.mjml.j2")}
    text_names = {p.name.removesuffix(".txt.j2") for p in folder.glob("*.txt.j2")}
    return (html_names & text_names) - NOT_ISSUE_TEMPLATES
