"""`check`'s rules by id, each naming the stages that run it: a new rule is a new module.

As Pelican's readers are a table of classes, a rule is a row: an id, its stages, its place in
the order, and whether its findings are fixed as errors. A module registers its rules with
`@rule(...)` and is named in checks.run.RULE_MODULES, so none goes missing silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from ..errors import SEVERITIES, Problem
from ..mail.mailto import unsubscribe_link
from ..mail.message import build_review_message, new_envelope
from ..render.renderer import RenderedIssue
from ..source.inputs import TEMPLATES_DIR
from ..source.models import Issue
from ..source.project import Project

PREFLIGHT = "preflight"  # `build`'s quick pass: its errors stop the build
CHECK = "check"          # `send.py check`: every rule
ARCHIVE = "archive"      # the web archive: its errors keep an unfinished issue off the site
STAGES = (PREFLIGHT, CHECK, ARCHIVE)


@dataclass
class CheckContext:
    """What a rule reads: the project, the issue and, unless it did not render, its email.

    The email's parts and the review .eml are made on first use, once for every rule.
    """

    project: Project
    issue: Issue
    rendered: RenderedIssue | None = None
    root: Path | None = None  # the project folder as given, so paths show as the editor typed

    @property
    def templates(self) -> Path:
        return (self.root or self.project.root) / TEMPLATES_DIR

    @cached_property
    def unsubscribe_url(self) -> str:
        return unsubscribe_link(self.project.config)

    @cached_property
    def _parts(self) -> tuple[str, str]:
        if self.rendered is None:
            raise LookupError("no rendered email: register the rule with needs_email=True")
        return self.rendered.parts(self.unsubscribe_url)

    @property
    def html(self) -> str:
        return self._parts[0]

    @property
    def text(self) -> str:
        return self._parts[1]

    @cached_property
    def eml(self) -> bytes:
        config = self.project.config
        envelope = new_envelope(config, config.sender.email)
        return build_review_message(config, self.rendered, envelope, self.unsubscribe_url)


RuleFunction = Callable[[CheckContext], list[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    run: RuleFunction
    stages: frozenset[str]
    order: int                  # lower runs first; findings come out in their rules' order
    needs_email: bool = False   # skipped when the issue did not render (and in the archive)
    severity: str | None = None  # fixed: every finding is this, whatever a setting asks
    module: str = field(default="", compare=False)

    @property
    def downgradable(self) -> bool:
        """False for the footer's rules: a missing crisis line is an error, always."""
        return self.severity is None


RULES: dict[str, Rule] = {}


def register(new: Rule) -> Rule:
    """Add a rule; an id taken twice or an unknown stage is a bug, raised at import."""
    if new.id in RULES:
        raise ValueError(f"check rule {new.id!r} registered twice ({RULES[new.id].module}, "
                         f"{new.module})")
    unknown = set(new.stages) - set(STAGES)
    if unknown or not new.stages:
        raise ValueError(f"check rule {new.id!r}: stages must be some of {STAGES}")
    if new.severity is not None and new.severity not in SEVERITIES:
        raise ValueError(f"check rule {new.id!r}: severity must be one of {SEVERITIES}")
    RULES[new.id] = new
    return new


def rule(rule_id: str, *, stages: tuple[str, ...], order: int, needs_email: bool = False,
         severity: str | None = None) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated `(context) -> list[Problem]` as rule `rule_id`."""

    def decorate(function: RuleFunction) -> RuleFunction:
        register(Rule(rule_id, function, frozenset(stages), order, needs_email, severity,
                      function.__module__))
        return function

    return decorate


def rules_for(stage: str) -> list[Rule]:
    if stage not in STAGES:
        raise ValueError(f"no check stage {stage!r}; the stages are {STAGES}")
    return sorted((r for r in RULES.values() if stage in r.stages), key=lambda r: r.order)


def run_rules(stage: str, context: CheckContext,
              severities: Mapping[str, str] | None = None) -> list[Problem]:
    """Every finding of the stage's rules, in order. `severities` (rule id -> severity) is
    how a setting would change a rule's; a rule with a fixed severity keeps it."""
    findings: list[Problem] = []
    for each in rules_for(stage):
        if each.needs_email and context.rendered is None:
            continue
        wanted = each.severity or (severities or {}).get(each.id)
        findings += [replace(found, severity=wanted or found.severity,
                             rule=found.rule or each.id) for found in each.run(context)]
    return findings
