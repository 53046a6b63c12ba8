"""`check`: every rule on one issue; `build` runs the quick, errors-only part first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NewsletterError, RenderError, ValidationError, display_path
from ..mail.mailto import CONFIG_CHECKS, unsubscribe_link
from ..mail.message import build_review_message, new_envelope
from ..render.renderer import RenderedIssue, Renderer
from ..source.compose import find_issue
from ..source.inputs import TEMPLATES_DIR
from ..source.project import Project, load_project
from . import email_rules as rules
from .contrast import check_contrast
from .findings import Finding

# The full check's CSS and spam rules (their data, SpamAssassin) are imported when
# `check` runs them, not on every `build`, which runs only the quick rules.


@dataclass
class CheckReport:
    issue_id: str | None
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def failed(self, strict: bool) -> bool:
        return bool(self.count("error") or (strict and self.count("warning")))


class ChecksFailedError(NewsletterError):
    """`build` refuses an issue that has errors a preflight catches."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(f"{len(findings)} problem(s) found before building",
                         "fix them, or run `send.py check` for the whole preflight")

    def lines(self) -> list[str]:
        return [f"{f.where}: {f.message} (hint: {f.hint})" for f in self.findings]


def check_issue(root: Path, ref: str | None) -> CheckReport:
    """Every rule: the input files, the email's links, images, subject, size, third parties,
    footer, content warnings, template CSS support, colour contrast and spam score."""
    try:
        project = load_project(root, CONFIG_CHECKS)
    except ValidationError as exc:
        return CheckReport(None, [_from_problem(problem) for problem in exc.problems])
    issue = find_issue(project.issues, ref)
    from .css import check_template_css

    try:
        rendered = Renderer(project.root, project.config).render(issue)
    except RenderError as exc:
        # No email to look at: the error is the finding, with the rules that need none.
        findings = [_from_render_error(exc, root / TEMPLATES_DIR)] + _issue_findings(project,
                                                                                    issue)
    else:
        findings = _email_findings(project, rendered, quick=False)
    report = CheckReport(issue.id, findings)
    report.findings += check_template_css(root / TEMPLATES_DIR, project.config.check.accepted_css)
    return report


def quick_errors(project: Project, rendered: RenderedIssue) -> list[Finding]:
    """What `build` checks first: only the cheap rules, only their errors."""
    return [f for f in _email_findings(project, rendered, quick=True) if f.severity == "error"]


def preflight(project: Project, rendered: RenderedIssue) -> None:
    """`build`'s pre-pass (mail.build.build_issue's `preflight`): raise on a quick error."""
    errors = quick_errors(project, rendered)
    if errors:
        raise ChecksFailedError(errors)


def _email_findings(project: Project, rendered: RenderedIssue, *, quick: bool) -> list[Finding]:
    config = project.config
    issue = rendered.issue
    link = unsubscribe_link(config)
    html, text = rendered.parts(link)
    findings = (rules.check_links_and_images(html) + rules.check_subject(issue)
                + rules.check_intro(issue) + rules.check_size(html)
                + rules.check_footer(project, html, text, link) + check_contrast(config))
    if not quick:
        from .spam import check_spam

        findings += (rules.check_markdown_links(issue) + rules.check_sent_before(project, issue)
                     + rules.check_content_warnings(issue))
        eml = build_review_message(config, rendered, new_envelope(config, config.sender.email),
                                   link)
        findings += check_spam(eml)
    return findings


def _issue_findings(project: Project, issue) -> list[Finding]:
    """The full check's rules that read the issue and the config, not the rendered email."""
    return (rules.check_subject(issue) + rules.check_intro(issue) + check_contrast(project.config)
            + rules.check_markdown_links(issue) + rules.check_sent_before(project, issue)
            + rules.check_content_warnings(issue))


# render/renderer.py words its errors 'templates/x.mjml.j2[:LINE]: what went wrong'.
_RENDER_PLACE = re.compile(r"(?P<where>.+?\.j2(?::\d+)?): (?P<what>.*)", re.DOTALL)
_THIRD_PARTY = re.compile(r"opening the email would load from (?P<hosts>.+)")


def _from_render_error(exc: RenderError, templates: Path) -> Finding:
    """A template that does not render, as a finding at its file (and line, where known)."""
    place = _RENDER_PLACE.fullmatch(exc.message)
    where, what = (place.group("where"), place.group("what")) if place else ("email",
                                                                            exc.message)
    hint = exc.hint or "see README, 'Templates'"
    third_party = _THIRD_PARTY.fullmatch(what)
    if not third_party:
        return Finding("error", where, what, hint, "render")
    for host in third_party.group("hosts").split(", "):
        found = _line_naming(templates, host)
        if found:
            where = found
            break
    return Finding("error", where, what, hint, "third-party")


def _line_naming(templates: Path, words: str) -> str | None:
    """'templates/x.mjml.j2:12': the first line of an MJML template or partial with `words`."""
    for path in sorted(templates.rglob("*.mjml.j2")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            if words in line:
                return f"{display_path(path)}:{number}"
    return None


def _from_problem(problem) -> Finding:
    place = display_path(problem.path) + (f":{problem.line}" if problem.line else "")
    message = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return Finding("error", place, message, problem.hint or "see README", "input")
