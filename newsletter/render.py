"""Issue -> MJML -> HTML, and the plain-text twin from the same data through its own template."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from mjml import mjml2html

from .config import Config
from .errors import RenderError, display_path
from .markup import TEXT_WIDTH, markdown_to_html, markdown_to_text, wrap
from .models import Issue

TEMPLATES_DIR = "templates"

# Rendered into both parts where the unsubscribe link goes, so an issue is
# rendered once and each recipient costs only a string replacement.
UNSUBSCRIBE_SLOT = "x-mindshape-unsubscribe-slot"


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once; `parts()` fills in the one thing that differs per recipient."""

    issue: Issue
    subject: str
    preheader: str
    html_with_slot: str
    text_with_slot: str

    def parts(self, unsubscribe_url: str) -> tuple[str, str]:
        """(html, text) with this recipient's unsubscribe link."""
        return (self.html_with_slot.replace(UNSUBSCRIBE_SLOT, html_lib.escape(unsubscribe_url)),
                self.text_with_slot.replace(UNSUBSCRIBE_SLOT, unsubscribe_url))


def available_templates(root: Path) -> set[str]:
    """Template names that have both parts: NAME.mjml.j2 and NAME.txt.j2."""
    folder = root / TEMPLATES_DIR
    html_names = {p.name.removesuffix(".mjml.j2") for p in folder.glob("*.mjml.j2")}
    text_names = {p.name.removesuffix(".txt.j2") for p in folder.glob("*.txt.j2")}
    return html_names & text_names


class Renderer:
    """Renders issues with the templates in one folder; build it once, render many."""

    def __init__(self, root: Path, config: Config) -> None:
        self.config = config
        self.folder = root / TEMPLATES_DIR
        loader = jinja2.FileSystemLoader(self.folder)
        # The MJML templates produce markup: every value is escaped unless marked safe.
        self.html_env = jinja2.Environment(loader=loader, autoescape=True,
                                           undefined=jinja2.StrictUndefined)
        # The text templates produce plain text, where HTML escaping would show as '&amp;'.
        # Values are still data, never template code: Jinja does not evaluate them.
        self.text_env = jinja2.Environment(loader=loader, autoescape=False,
                                           undefined=jinja2.StrictUndefined, trim_blocks=True,
                                           lstrip_blocks=True, keep_trailing_newline=True)
        for env in (self.html_env, self.text_env):
            env.filters.update(longdate=_long_date, host=lambda url: urlsplit(url).hostname or url)
        self.html_env.filters["markdown"] = markdown_to_html
        self.text_env.filters.update(markdown_text=markdown_to_text, wrap=_wrap_filter,
                                     underline=_underline)

    def render(self, issue: Issue) -> RenderedIssue:
        context = {"issue": issue, "config": self.config, "unsubscribe_url": UNSUBSCRIBE_SLOT}
        mjml_source = self._render_template(self.html_env, f"{issue.template}.mjml.j2", context)
        text = _tidy_text(self._render_template(self.text_env, f"{issue.template}.txt.j2", context))
        try:
            html = mjml2html(mjml_source)
        except (ValueError, RuntimeError) as exc:
            where = display_path(self.folder / f"{issue.template}.mjml.j2")
            raise RenderError(f"{where}: MJML did not compile: {exc}",
                              "check that every MJML tag is closed and every attribute has a "
                              "quoted value") from None
        # Ends in a newline as the .eml's part will: the file and the part stay identical.
        html = strip_remote_resources(html).rstrip("\n") + "\n"
        return RenderedIssue(issue, issue.subject, issue.preheader, html, text)

    def _render_template(self, env: jinja2.Environment, name: str, context: dict) -> str:
        where = display_path(self.folder / name)
        try:
            return env.get_template(name).render(context)
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"{where}: template {exc.name!r} not found",
                              "each template needs NAME.mjml.j2 and NAME.txt.j2") from None
        except jinja2.TemplateSyntaxError as exc:
            file = display_path(exc.filename) if exc.filename else where
            raise RenderError(f"{file}:{exc.lineno}: template syntax error: {exc.message}",
                              "fix the {{ }} or {% %} tag on that line") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{where}: {exc.message}",
                              "use only the names README lists for templates") from None


def strip_remote_resources(html: str) -> str:
    """Drop what MJML/MRML add by themselves that makes a client fetch from a third party.

    <link> tags and CSS @import are only ever web fonts here; no email of ours
    needs either, so all of them go.
    """
    html = re.sub(r"<link\b[^>]*>", "", html, flags=re.IGNORECASE)
    html = re.sub(r"@import\s+url\([^)]*\)\s*;?", "", html, flags=re.IGNORECASE)
    return re.sub(r"<style type=\"text/css\">\s*</style>", "", html)


def _long_date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _wrap_filter(value: str, indent: str = "") -> str:
    return wrap(value, TEXT_WIDTH, indent, indent)


def _underline(value: str, rule: str) -> str:
    width = max(len(line) for line in value.splitlines())
    return f"{value}\n{rule * width}"


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n") + "\n"
