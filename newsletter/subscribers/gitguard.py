"""Lists stay out of git: the store, and files that name subscribers, refused where git sees."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import display_path
from .schema import DB_FILE, STORE_ENV, StoreError


def check_not_in_git(folder: Path) -> None:
    """Refuse a store that git tracks, or would track: the list says who reads about
    mental health, and a commit would carry it everywhere the repository goes.

    The folder may not exist yet (first run): git is asked from its nearest existing
    parent, and the folder itself must be ignored, and the database's -wal and -shm
    companions with it, not only the database file.
    """
    folder = folder.resolve()
    db = folder / DB_FILE
    tracked = _git(folder, "ls-files", "--error-unmatch", str(db))
    if tracked is None:
        return  # no git, or not inside a work tree: nothing can track it
    if tracked == 0:
        raise StoreError(f"the subscriber store {display_path(db)} is tracked by git",
                         f"run: git rm --cached {display_path(db)}, and keep "
                         f"{display_path(folder)}/ in .gitignore; the list must never be committed")
    names = [f"{folder}/", str(db), f"{db}-wal", f"{db}-shm"]
    if not all(_git(folder, "check-ignore", "-q", "--no-index", name) == 0 for name in names):
        raise StoreError(f"the subscriber store {display_path(folder)}/ is inside a git work tree "
                         "and not ignored", f"add {display_path(folder)}/ to .gitignore, or set "
                         f"{STORE_ENV} to a folder outside the repository")


def check_file_not_in_git(path: Path, what: str, *, folder: bool = False) -> None:
    """Refuse to write `path` (a file that names subscribers, or with `folder` a folder of
    them: drafts, a ledger) where git tracks it or would pick it up. Outside a work tree,
    or git-ignored, it is fine."""
    path = path.resolve()
    name = f"{path}/" if folder else str(path)
    shown = display_path(path) + ("/" if folder else "")
    if _git(path.parent, "ls-files", "--error-unmatch", name) == 0:
        raise StoreError(f"{shown} is tracked by git",
                         f"run: git rm -r --cached {shown}, and add it to .gitignore; "
                         "it names subscribers and must never be committed")
    if _git(path.parent, "check-ignore", "-q", "--no-index", name) == 1:
        raise StoreError(f"{shown} is inside a git work tree and not ignored",
                         f"write the {what} outside the repository, or add it to .gitignore; "
                         "it names subscribers and must never be committed")


def _git(near: Path, *args: str) -> int | None:
    """git's exit code for `args`, run from the nearest existing folder at or above `near`;
    None when there is no git or that folder is not inside a work tree."""
    probe = near
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    try:
        inside = subprocess.run(["git", "-C", str(probe), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=10)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        return subprocess.run(["git", "-C", str(probe), *args], capture_output=True, text=True,
                              timeout=10).returncode
    except (OSError, subprocess.TimeoutExpired):
        return None
