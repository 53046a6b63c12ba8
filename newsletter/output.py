"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from pathlib import Path

from .errors import OutputError, display_path


def write_all_atomic(files: dict[Path, bytes], *, durable: bool = True) -> None:
    """Write several files so that a failure leaves none of them changed.

    Every file is written to a temporary name first; only when all are on disk
    are they renamed into place (renames do not fail for lack of space).
    `durable=False` skips the per-file fsync, for callers that write many files
    and call `flush_to_disk()` once before recording them as written.
    """
    staged: list[tuple[str, Path]] = []
    path = next(iter(files), Path("."))
    try:
        for folder in {path.parent for path in files}:
            folder.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            # Hidden, and named by process: no other writer picks the same name, and a
            # leftover from a killed run is found by remove_leftovers().
            tmp = str(path.with_name(f".{path.name}.{os.getpid()}.tmp"))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
        if durable:
            for folder in {path.parent for path in files}:
                _fsync_folder(folder)
    except OSError as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        where = display_path(exc.filename or path)
        raise OutputError(f"cannot write {where}: {exc.strerror}",
                          "free some disk space or pick another --out folder, then run the "
                          "same command again") from None


def flush_to_disk(folder: Path) -> None:
    """Everything written so far in `folder`'s filesystem reaches the disk: one syncfs(2)
    for a whole batch of files, instead of an fsync for each (os.sync() where syncfs
    is missing, which flushes every filesystem)."""
    syncfs = getattr(_libc(), "syncfs", None) if _libc() else None
    if syncfs is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            raise OutputError(f"cannot flush {display_path(folder)} to disk: "
                              f"{os.strerror(ctypes.get_errno())}",
                              "check the disk, then run the same command again")
    finally:
        os.close(fd)


@functools.cache
def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _fsync_folder(folder: Path) -> None:
    """A rename is durable once the folder holding it is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unique_path(path: Path) -> Path:
    """`path`, or `path` with -2, -3... before its suffix: never an existing file or folder."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def remove_leftovers(folder: Path) -> None:
    """Temporary files of a write that was killed before its rename."""
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
