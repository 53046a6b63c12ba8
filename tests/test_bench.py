"""The benchmark runs end to end at a tiny size: timings are never asserted, only that every
part ran and reported (bench/run.py --quick)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import REPO


def test_bench_quick_runs_every_part(tmp_path):
    results = tmp_path / "RESULTS.md"
    # The first run on a machine installs the pinned official MJML with npm ci.
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick",
                           "--dir", str(tmp_path), "--results", str(results)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = results.read_text("utf-8")
    assert report == done.stdout
    for heading in ("## Whole build, as a process", "## Render in process", "## Emission",
                    "## Targets (issue 7)"):
        assert heading in report
    for row in ("| sample issue |", "| 20-chunk issue |", "| 20 |", "| 200 |"):
        assert row in report
    assert "| ours: preview refresh |" in report
    assert "cores" in report
    if shutil.which("node"):  # CI has node (scripts/setup --test): the official side ran too
        assert "mjml 5.4.1" in report
        assert "not measured" not in report
    assert list(tmp_path.iterdir()) == [results]  # scratch files are cleaned up
