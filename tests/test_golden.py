"""The sample issues compared byte for byte with tests/golden/.

After a deliberate change to templates, sample content or dependencies, review
the diff and regenerate with:  .venv/bin/python -m pytest tests/test_golden.py --update-goldens
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXED_DATE

from newsletter.mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from newsletter.mail.build import build_issue
from newsletter.mail.message import Envelope
from newsletter.source.project import load_project

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("issue_id", ["001-slow-change", "002-parts-that-help"])
def test_sample_issue_matches_golden_files(sample_project, tmp_path, request, issue_id):
    envelope = Envelope(to="team@mindshape.io", date=FIXED_DATE,
                        message_id=f"<golden-{issue_id}@mindshape.io>",
                        boundary="=_golden_boundary")
    project = load_project(sample_project.root)
    build_issue(project, issue_id, tmp_path, envelope=envelope)
    update = request.config.getoption("--update-goldens")
    for name in ("email.html", "email.txt", "email.eml"):
        produced = (tmp_path / issue_id / name).read_bytes()
        golden = GOLDEN / issue_id / name
        if update:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(produced)
            continue
        assert golden.exists(), f"no golden file {golden}: run with --update-goldens"
        assert produced == golden.read_bytes(), (
            f"{issue_id}/{name} differs from tests/golden; if the change is intended, "
            "review it and run pytest tests/test_golden.py --update-goldens")

