"""`build`: one issue -> email.html, email.txt and email.eml (a review copy to the sender)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks.run import ChecksFailedError, quick_errors
from .compose import find_issue
from .mailto import unsubscribe_link
from .message import Envelope, build_review_message, new_envelope
from .output import check_out_dir, write_all_atomic
from .project import Project
from .render import Renderer

# Gmail clips a message whose HTML is larger than about 102 KB, hiding the footer
# (crisis lines, unsubscribe). Counted in bytes, conservatively as 102,000.
GMAIL_CLIP_BYTES = 102_000


@dataclass(frozen=True)
class BuildResult:
    issue_id: str
    files: list[tuple[Path, int]]
    warnings: list[str]


def build_issue(project: Project, ref: str | None, out_dir: Path,
                envelope: Envelope | None = None) -> BuildResult:
    """Render the issue named by `ref` (latest when None) and write its three files.

    Everything is rendered in memory first, so an error leaves nothing half-written.
    """
    check_out_dir(out_dir)
    issue = find_issue(project.issues, ref)
    config = project.config
    rendered = Renderer(project.root, config).render(issue)
    errors = quick_errors(project, rendered)
    if errors:
        raise ChecksFailedError(errors)
    link = unsubscribe_link(config)
    html, text = rendered.parts(link)
    envelope = envelope or new_envelope(config, to=config.sender.email)
    eml = build_review_message(config, rendered, envelope, link)

    target = out_dir / issue.id
    files = {
        target / "email.html": html.encode("utf-8"),
        target / "email.txt": text.encode("utf-8"),
        target / "email.eml": eml,
    }
    write_all_atomic(files)
    warnings = []
    html_size = len(files[target / "email.html"])
    if html_size > GMAIL_CLIP_BYTES:
        warnings.append(f"email.html is {html_size / 1000:.1f} KB: Gmail clips HTML over 102 KB "
                        "and hides the rest, footer included; drop a chunk or shorten the intro")
    return BuildResult(issue.id, [(path, len(data)) for path, data in files.items()], warnings)
