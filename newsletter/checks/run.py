"""`check`: every rule on one issue; `build` runs the quick, errors-only part first, and the
archive the part that says an issue is unfinished."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import clock
from ..errors import NewsletterError, Problem, RenderError, ValidationError, display_path
from ..mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from ..render.renderer import WELCOME, RenderedIssue, Renderer
from ..source.compose import find_issue
from ..source.inputs import TEMPLATES_DIR
from ..source.models import Issue
from ..source.project import Project, load_project
from . import bulk_sender, contrast, css, discreet, email_rules, research, spam
from .findings import Finding, finding
from .registry import ARCHIVE, CHECK, PREFLIGHT, CheckContext, rules_for, run_rules

# Every module that registers rules (registry.rule), imported here so that none is left out
# by an import nobody made; tests/test_check_registry.py holds this list to the package.
RULE_MODULES = (email_rules, contrast, research, spam, css, bulk_sender, discreet)


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
        return [f.located() for f in self.findings]


def check_issue(root: Path, ref: str | None) -> CheckReport:
    """Every rule of the `check` stage: the input files, the email's links, images, subject,
    size, third parties, footer, content warnings, template CSS support, colour contrast and
    spam score. A template that does not render is the first finding, with the rules that
    need no email."""
    try:
        project = load_project(root)
    except ValidationError as exc:
        return CheckReport(None, [_from_problem(problem) for problem in exc.problems])
    issue = find_issue(project.issues, ref)
    findings: list[Finding] = []
    try:
        rendered = Renderer(project.root, project.config).render(issue)
    except RenderError as exc:
        findings.append(_from_render_error(exc, root / TEMPLATES_DIR))
        rendered = None
    findings += run_rules(CHECK, CheckContext(project, issue, rendered, root))
    return CheckReport(issue.id, findings)


def check_welcome(root: Path) -> CheckReport:
    """The `check` stage's rules about an email, on the welcome as it would go out today:
    links, images, size, the crisis lines, the disclaimer, the unsubscribe link, the spam
    score, template CSS and the palette's contrast. The rules that read an issue's files
    (its subject line in digests/, its chunks) have no issue here to read."""
    try:
        project = load_project(root)
    except ValidationError as exc:
        return CheckReport(None, [_from_problem(problem) for problem in exc.problems])
    renderer = Renderer(project.root, project.config)
    try:
        rendered = renderer.render_welcome(project.issues, clock.today())
    except RenderError as exc:
        return CheckReport(WELCOME, [_from_render_error(exc, root / TEMPLATES_DIR)])
    context = CheckContext(project, rendered.issue, rendered, root)
    findings: list[Finding] = []
    for each in rules_for(CHECK):
        if each.needs_email or each.id in _NO_ISSUE_NEEDED:
            findings += [replace(found, severity=each.severity or found.severity,
                                 rule=found.rule or each.id) for found in each.run(context)]
    return CheckReport(WELCOME, findings)


# Rules that read neither the email nor an issue, only newsletter.yaml or templates/ (the
# discreet rule reads the welcome's own discreet subject when given the welcome).
_NO_ISSUE_NEEDED = ("contrast", "css-support", discreet.RULE)


def quick_errors(project: Project, rendered: RenderedIssue) -> list[Finding]:
    """What `build` checks first: only the preflight stage's rules, only their errors."""
    return [f for f in run_rules(PREFLIGHT, CheckContext(project, rendered.issue, rendered))
            if f.severity == "error"]


def unfinished_errors(project: Project, issue: Issue) -> list[Finding]:
    """What keeps an issue off the web archive: the archive stage's errors (no email needed)."""
    return [f for f in run_rules(ARCHIVE, CheckContext(project, issue)) if f.severity == "error"]


def preflight(project: Project, rendered: RenderedIssue) -> None:
    """`build`'s pre-pass (mail.build.build_issue's `preflight`): raise on a quick error."""
    errors = quick_errors(project, rendered)
    if errors:
        raise ChecksFailedError(errors)


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
        return finding("error", where, what, hint, "render")
    for host in third_party.group("hosts").split(", "):
        found = _line_naming(templates, host)
        if found:
            where = found
            break
    return finding("error", where, what, hint, "third-party")


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


def _from_problem(problem: Problem) -> Finding:
    """An input file's problem as a finding of `check` (a line 0 is shown as none)."""
    return replace(problem, line=problem.line or None, hint=problem.hint or "see README",
                   severity="error", rule="input")
