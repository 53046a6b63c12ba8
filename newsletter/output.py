"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import stat
from pathlib import Path

from .errors import OutputError, display_path


def write_all_atomic(files: dict[Path, bytes], *, durable: bool = True,
                     mode: int = 0o600) -> None:
    """Write several files so that a failure leaves none of them changed.

    Every file is written to a temporary name first; only when all are on disk
    are they renamed into place (renames do not fail for lack of space).
    `durable=False` skips the per-file fsync, for callers that write many files
    and call `flush_to_disk()` once before recording them as written. Files are
    private (0600) unless `mode` says otherwise, set before they get their names.
    """
    staged: list[tuple[str, str]] = []
    path = next(iter(files), Path("."))
    try:
        for folder in {path.parent for path in files}:
            folder.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            tmp = _temporary(str(path.parent), path.name)
            _write_new(tmp, [data], durable=durable, mode=mode)
            staged.append((tmp, str(path)))
        _rename_all(staged)
        if durable:
            for folder in {path.parent for path in files}:
                _fsync_folder(folder)
    except OSError as exc:
        raise _write_failed(exc, path, staged) from None


def create_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Create `path` whole, never replacing a file: FileExistsError if one is there, even one
    saved a moment ago (the name is taken with link(2), which refuses an existing name)."""
    folder = str(path.parent)
    tmp = _temporary(folder, path.name)
    try:
        os.makedirs(folder, exist_ok=True)
        _write_new(tmp, [data], durable=True, mode=mode)
        try:
            _take_name(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        _fsync_folder(path.parent)
    except FileExistsError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write {display_path(path)}: {exc.strerror}",
                          "check that its folder is writable and the disk has room") from None


def _take_name(tmp: str, path: Path) -> None:
    """Give the written file its name unless the name is taken. A file system without hard
    links (FAT, some network shares) gets a rename after a last look instead."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
        os.rename(tmp, path)


def write_pieces_atomic(folder: str, files: list[tuple[str, list[bytes]]]) -> None:
    """Write many files into `folder`, each given as pieces, so that a failure leaves none
    of them changed: write_all_atomic(durable=False) for thousands of small files.

    Each file is one os.writev of its pieces (shared pieces are never joined into a
    copy), under a temporary name until every file is written. Not synced: call
    flush_to_disk() before recording the files as written.
    """
    staged: list[tuple[str, str]] = []
    path = folder
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)  # the files are private: so is it
        for name, pieces in files:
            path = f"{folder}/{name}"
            tmp = _temporary(folder, name)
            _write_new(tmp, pieces, durable=False)
            staged.append((tmp, path))
        _rename_all(staged)
    except OSError as exc:
        raise _write_failed(exc, path, staged) from None


def _temporary(folder: str, name: str) -> str:
    # Hidden, and named by process: no other writer picks the same name, and a
    # leftover from a killed run is found by remove_leftovers().
    return f"{folder}/.{name}.{os.getpid()}.tmp"


def _write_new(path: str, pieces: list[bytes], *, durable: bool, mode: int = 0o600) -> None:
    """Create `path` (0600, or `mode`) holding the pieces; a failure removes what was written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        if mode != 0o600:
            os.fchmod(fd, mode)  # exactly `mode`, whatever the umask
        _write_fully(fd, pieces)
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


# writev(2) takes at most this many buffers (IOV_MAX, 1024 on Linux and macOS).
_IOV_MAX = 1024


def _write_fully(fd: int, pieces: list[bytes]) -> None:
    """One writev, then the rest byte by byte: a nearly full disk takes part of a write and
    reports the lack of space only on the next one."""
    if len(pieces) > _IOV_MAX:
        pieces = [b"".join(pieces)]
    written = os.writev(fd, pieces)
    size = sum(map(len, pieces))
    if written == size:
        return
    rest = memoryview(b"".join(pieces))[written:]
    while rest:
        count = os.write(fd, rest)
        if count == 0:  # never for a regular file; do not loop forever if it happens
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        rest = rest[count:]


def _rename_all(staged: list[tuple[str, str]]) -> None:
    for tmp, path in staged:
        os.replace(tmp, path)  # rename(2), replacing an earlier file of that name


def _write_failed(exc: OSError, path: Path | str, staged: list[tuple[str, str]]) -> OutputError:
    """Removes the temporary files of a failed write; the error says which file and why."""
    for tmp, _ in staged:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return output_error(exc, path)


def output_error(exc: OSError, path: Path | str) -> OutputError:
    """The OutputError for `exc`: the file it names (else `path`), its cause, and a hint
    that fits that cause (a full disk is not fixed like a read-only one)."""
    where = display_path(exc.filename or path)
    return OutputError(f"cannot write {where}: {exc.strerror or exc}", _hint(exc.errno))


_HINTS = {
    errno.ENOSPC: "free some disk space, then run the same command again",
    errno.EDQUOT: "your disk quota is used up: free some space, then run the same command again",
    errno.EACCES: "you may not write there: pick another --out folder or fix its permissions",
    errno.EPERM: "you may not write there: pick another --out folder or fix its permissions",
    errno.EROFS: "that disk is mounted read-only: pick another --out folder",
    errno.ENOTDIR: "a part of that path is a file, not a folder: pick another --out folder",
    errno.EEXIST: "a file is in the way of a folder there: pick another --out folder",
    errno.EISDIR: "a folder is in the way of a file there: move it, or pick another --out folder",
    errno.ENOENT: "no such folder, and none can be made there: pick another --out folder",
    errno.ENODEV: "that place cannot hold files: pick an --out folder on a real disk",
    errno.ENAMETOOLONG: "the path is too long: pick a shorter --out folder",
}


def _hint(code: int | None) -> str:
    return _HINTS.get(code, "check the --out folder, then run the same command again")


def check_out_dir(folder: Path) -> None:
    """Refuse an output folder that is a file before anything is rendered or written."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{display_path(folder)} is a file, not a folder",
                          "pass --out a folder (it is created if missing)")


def private_folder(folder: Path) -> Path:
    """`folder`, created if missing, 0700 whatever the umask (it holds what names subscribers;
    an existing one is narrowed too). Only the last part gets 0700, not the parents made."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


def no_room(folder: Path) -> bool:
    """True when `folder`'s disk is (nearly) full: SQLite reports a full disk while growing
    its -shm file as a plain 'disk I/O error'."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        info = os.statvfs(probe)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 1 << 20


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
