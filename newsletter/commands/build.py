"""`build`: one issue to email.html, email.txt and a review email.eml."""

from __future__ import annotations

from pathlib import Path

import click

from ..checks.run import preflight
from ..errors import display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..mail.build import build_issue
from ..source.project import load_project
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.argument("issue", required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <issue-id>/ into.  [default: out/ in the project]")
@click.pass_obj
def build(project_dir: Path, issue: str | None, out_dir: Path | None) -> None:
    """Render ISSUE (an id or number; the latest when omitted) to HTML, text and a review .eml."""
    project = load_project(project_dir)
    result = build_issue(project, issue, out_dir or project_dir / "out", preflight=preflight)
    for path, size in result.files:
        echo(f"wrote {display_path(path):<40} {_size(size):>9}")
    for warning in result.warnings:
        echo(f"Warning: {warning}", err=True)


def _size(size: int) -> str:
    return f"{size} B" if size < 1000 else f"{size / 1000:.1f} KB"
