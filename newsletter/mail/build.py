"""`build`: one issue -> email.html, email.txt and email.eml (a review copy to the sender)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..output import check_out_dir, write_all_atomic
from ..render.renderer import RenderedIssue, Renderer
from ..source.compose import find_issue
from ..source.project import Project
from .mailto import unsubscribe_link
from .message import Envelope, build_review_message, new_envelope

# Gmail clips a message whose HTML is larger than about 102 KB, hiding the footer
# (crisis lines, unsubscribe). Counted in bytes, conservatively as 102,000.
GMAIL_CLIP_BYTES = 102_000


@dataclass(frozen=True)
class BuildResult:
    issue_id: str
    files: list[tuple[Path, int]]
    warnings: list[str]


def build_issue(project: Project, ref: str | None, out_dir: Path,
                envelope: Envelope | None = None,
                preflight: Callable[[Project, RenderedIssue], None] | None = None) -> BuildResult:
    """Render the issue named by `ref` (latest when None) and write its three files.

    Everything is rendered in memory first, so an error leaves nothing half-written.
    `preflight` runs on the rendered issue before anything is written and raises to stop
    the build: the `build` command passes checks.run.preflight (checks' quick pass), which
    this stage may not import, checks being a later one.
    """
    check_out_dir(out_dir)
    issue = find_issue(project.issues, ref)
    config = project.config
    rendered = Renderer(project.root, config).render(issue)
    if preflight is not None:
        preflight(project, rendered)
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
