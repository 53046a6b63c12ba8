"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError, display_path


def write_all_atomic(files: dict[Path, bytes]) -> None:
    """Write several files so that a failure leaves none of them changed.

    Every file is written to a temporary name first; only when all are on disk
    are they renamed into place (renames do not fail for lack of space).
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        where = display_path(exc.filename) if exc.filename else "the output folder"
        raise OutputError(f"cannot write {where}: {exc.strerror}",
                          "free some disk space or pick another --out folder") from None
