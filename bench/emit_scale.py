"""Emission at scale: per-subscriber .eml drafts for 10,000 and 100,000 subscribers against the
floor (a plain loop writing the same number of files of the same size), as ratios.

    .venv/bin/python bench/emit_scale.py [--sizes 10000,100000] [--dir /dev/shm]

Files go to a tmpfs (default /dev/shm): on the root disk here, deleting many files
slows the next writes (online discard), which would measure the disk, not us.
Each side runs as its own process; peak memory is that process's maximum RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ISSUE = "002-parts-that-help"

FLOOR = """
import os, sys
from pathlib import Path
count, size, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
folder.mkdir(parents=True)
data = os.urandom(size)
for n in range(count):
    (folder / f"{n:06d}.eml").write_bytes(data)
"""


def run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty run cannot block
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            sys.exit(f"failed: {' '.join(command)}\n{errors.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def subscribers_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows((f"reader{n}@example.org", f"Reader {n}") for n in range(count))


def measure(count: int, scratch: Path) -> dict:
    lists = scratch / f"subscribers-{count}.csv"
    subscribers_csv(lists, count)
    out = scratch / "ours"
    ours_s, ours_mb = run([sys.executable, str(REPO / "send.py"), "--project", str(REPO), "emit",
                           "2", "--subscribers", str(lists), "--out", str(out)])
    drafts = list((out / ISSUE / "outbox").glob("*.eml"))
    assert len(drafts) == count, f"{len(drafts)} drafts for {count} subscribers"
    total_bytes = sum(path.stat().st_size for path in drafts)
    shutil.rmtree(out)
    floor_s, floor_mb = run([sys.executable, "-c", FLOOR, str(count),
                             str(total_bytes // count), str(scratch / "floor")])
    shutil.rmtree(scratch / "floor")
    return {"count": count, "ours_s": ours_s, "floor_s": floor_s, "ours_mb": ours_mb,
            "floor_mb": floor_mb, "bytes": total_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dir", default="/dev/shm")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        for count in (int(size) for size in args.sizes.split(",")):
            rows.append(measure(count, Path(scratch)))
    print(f"{'subscribers':>11} {'ours s':>8} {'floor s':>8} {'ours/floor':>10} {'files/s':>8} "
          f"{'MB/s':>7} {'peak MiB':>9} {'floor MiB':>9}")
    for r in rows:
        print(f"{r['count']:>11,} {r['ours_s']:>8.2f} {r['floor_s']:>8.2f} "
              f"{r['ours_s'] / r['floor_s']:>10.2f} {r['count'] / r['ours_s']:>8.0f} "
              f"{r['bytes'] / 1e6 / r['ours_s']:>7.1f} {r['ours_mb']:>9.1f} {r['floor_mb']:>9.1f}")
    if len(rows) >= 2:
        print(f"peak memory growth from {rows[0]['count']:,} to {rows[-1]['count']:,} "
              f"subscribers: {rows[-1]['ours_mb'] - rows[0]['ours_mb']:+.1f} MiB")


if __name__ == "__main__":
    main()
