"""`check`: the preflight, a line per finding; exit 1 on errors (on warnings too with --strict)."""

from __future__ import annotations

from pathlib import Path

import click

from ..checks.run import check_issue, check_welcome
from ..render.renderer import WELCOME
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.argument("issue", required=False)
@click.option("--strict", is_flag=True, help="Fail on warnings too (for CI and before a send).")
@click.pass_obj
def check(project_dir: Path, issue: str | None, strict: bool) -> None:
    """Check ISSUE (the latest when omitted), or the welcome (`check welcome`), for what
    breaks email or would embarrass us."""
    report = check_welcome(project_dir) if issue == WELCOME else check_issue(project_dir, issue)
    for finding in report.findings:
        echo(str(finding))
    errors, warnings = report.count("error"), report.count("warning")
    label = (f"issue {report.issue_id}" if report.issue_id not in (None, WELCOME)
             else "the welcome" if report.issue_id else "the input files")
    echo(f"{label}: {errors} error(s), {warnings} warning(s), {report.count('note')} "
               f"note(s)" + (" (--strict: warnings fail)" if strict and warnings else ""))
    if report.failed(strict):
        raise click.exceptions.Exit(1)
