"""`preview`: the issue as subscribers will see it, on a local page that follows every save."""

from __future__ import annotations

from pathlib import Path

import click

from .. import clock
from .base import NewsletterCommand
from .terminal import echo


@click.command(cls=NewsletterCommand)
@click.argument("issue", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.pass_obj
def preview(project_dir: Path, issue: str | None, port: int) -> None:
    """Serve ISSUE (the latest when omitted) at 600 px, 375 px, dark and as text; Ctrl-C stops.

    The page updates by itself when a chunk, an issue, newsletter.yaml or a template is
    saved, and shows render errors instead of stopping.
    """
    from ..web.preview import Preview  # here: watchfiles and http.server cost every command ~50 ms

    with Preview(project_dir, issue, port, on_update=_report) as server:
        echo(f"Previewing at {server.url} (only this computer can open it; Ctrl-C stops)")
        for line in server.state.errors:
            echo(line, err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            echo("Stopped.")


def _report(errors: list[str]) -> None:
    """One line per re-render on the terminal, as the page shows it."""
    if not errors:
        echo(f"{clock.local_now():%H:%M:%S} updated")
    for line in errors:
        echo(f"{clock.local_now():%H:%M:%S} {line}", err=True)
