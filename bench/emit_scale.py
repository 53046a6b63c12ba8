"""Emission at scale: per-subscriber .eml drafts for 10,000 and 100,000 subscribers against the
floor (a plain loop writing the same number of files of the same sizes), as ratios.
bench/run.py runs it with the other benchmarks; this runs emission alone.

    .venv/bin/python bench/emit_scale.py [--sizes 10000,100000] [--dir /dev/shm]

Files go to a tmpfs (default /dev/shm): on the root disk here, deleting many files
slows the next writes (online discard), which would measure the disk, not us.
Each side runs as its own process; peak memory is that process's maximum RSS.
"""

from __future__ import annotations

import argparse
import array
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ISSUE = "002-parts-that-help"

# The floor: as many files as our run wrote, each of the size of one of our drafts.
FLOOR = """
import array, os, sys
from pathlib import Path
sizes, folder = array.array("I", Path(sys.argv[1]).read_bytes()), Path(sys.argv[2])
folder.mkdir(parents=True)
data = memoryview(os.urandom(max(sizes)))
for n, size in enumerate(sizes):
    (folder / f"{n:06d}.eml").write_bytes(data[:size])
"""


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MiB, CPU seconds) of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty run cannot block
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            sys.exit(f"failed: {' '.join(command)}\n{errors.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def remove(folder: Path) -> None:
    """rm -rf in a child: shutil.rmtree lists a whole folder at once (100,000 entries), and
    this process's peak RSS would then count in every later child's peak."""
    subprocess.run(["rm", "-rf", "--", str(folder)], check=True)


def subscribers_csv(path: Path, count: int) -> None:
    if path.exists():  # the same list again: interleaved runs reuse it
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows((f"reader{n}@example.org", f"Reader {n}") for n in range(count))


def measure(count: int, scratch: Path, project: Path = REPO, issue: str = "2",
            issue_id: str = ISSUE, env: dict[str, str] | None = None) -> dict:
    """Emit `issue` of `project` to `count` subscribers as eml drafts, then run the floor."""
    lists = scratch / f"subscribers-{count}.csv"
    subscribers_csv(lists, count)
    out = scratch / "ours"
    ours_s, ours_mb, _ = run([sys.executable, str(REPO / "send.py"), "--project", str(project),
                              "emit", issue, "--subscribers", str(lists), "--out", str(out)], env)
    # Sizes only, no list of paths: Linux carries this process's peak RSS over fork and exec
    # into the next child's, so this process must stay small.
    with os.scandir(out / issue_id / "outbox") as entries:
        sizes = array.array("I", (e.stat().st_size for e in entries if e.name.endswith(".eml")))
    assert len(sizes) == count, f"{len(sizes)} drafts for {count} subscribers"
    remove(out)
    (scratch / "sizes").write_bytes(sizes.tobytes())
    floor_s, floor_mb, _ = run([sys.executable, "-c", FLOOR, str(scratch / "sizes"),
                                str(scratch / "floor")], env)
    remove(scratch / "floor")
    return {"count": count, "ours_s": ours_s, "floor_s": floor_s, "ours_mb": ours_mb,
            "floor_mb": floor_mb, "bytes": sum(sizes)}


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
