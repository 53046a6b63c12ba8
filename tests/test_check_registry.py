"""Check rules are registered, not wired in: a fake rule runs in `check` and `build` through the
CLI without an edit to the core; the footer's rules stay errors; one problem type (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from newsletter.checks import registry, run
from newsletter.checks.findings import Finding, finding
from newsletter.checks.registry import CHECK, PREFLIGHT, CheckContext, Rule, rule, run_rules
from newsletter.errors import Problem, ValidationError
from newsletter.mail.mailto import CONFIG_CHECKS
from newsletter.render.renderer import Renderer
from newsletter.source.compose import find_issue
from newsletter.source.project import load_project

FAKE_LINE = "error: email: the fake rule says no (hint: say yes)"
LOCKED = ("crisis-line", "disclaimer", "unsubscribe")


@pytest.fixture
def rules(monkeypatch):
    """The registry, restored after the test: what a test registers goes away with it."""
    monkeypatch.setattr(registry, "RULES", dict(registry.RULES))
    return registry.RULES


def register_fake(stages: tuple[str, ...], order: int = 5, severity: str = "error") -> None:
    @rule("fake", stages=stages, order=order)
    def _fake(context: CheckContext) -> list[Finding]:
        return [finding(severity, "email", "the fake rule says no", "say yes")]


def findings(project, *args: str) -> tuple[int, list[str]]:
    result = project.run("check", *args)
    return result.exit_code, [line for line in result.stdout.splitlines()
                              if line.startswith(("error: ", "warning: ", "note: "))]


def test_a_registered_rule_runs_in_check_in_its_order(project, rules):
    assert findings(project)[0] == 0
    register_fake((CHECK,), order=5)
    code, lines = findings(project)
    assert code == 1
    assert lines[0] == FAKE_LINE
    assert rules["fake"].module == __name__


def test_a_registered_rule_in_the_preflight_stops_build(project, rules):
    register_fake((PREFLIGHT, CHECK))
    result = project.run("build")
    assert result.exit_code == 1
    assert result.errors == ["Error: email: the fake rule says no (hint: say yes)"]
    assert not project.out.exists()


def test_a_rule_only_in_check_leaves_build_alone(project, rules):
    register_fake((CHECK,))
    assert project.run("build").exit_code == 0


def test_the_preflight_stops_on_errors_only(project, rules):
    register_fake((PREFLIGHT, CHECK), severity="warning")
    assert project.run("build").exit_code == 0
    assert findings(project)[1][0] == "warning: email: the fake rule says no (hint: say yes)"


def test_a_rule_id_twice_or_an_unknown_stage_is_refused(rules):
    register_fake((CHECK,))
    with pytest.raises(ValueError, match="registered twice"):
        register_fake((CHECK,))
    with pytest.raises(ValueError, match="stages must be"):
        registry.register(Rule("other", lambda context: [], frozenset({"send"}), 1))


def test_the_footer_rules_are_errors_no_setting_can_downgrade(project):
    for rule_id in LOCKED:
        assert registry.RULES[rule_id].severity == "error"
        assert not registry.RULES[rule_id].downgradable
        assert set(registry.RULES[rule_id].stages) == {PREFLIGHT, CHECK}
    assert registry.RULES["contrast"].downgradable
    footer = project.root / "templates" / "partials" / "footer.mjml.j2"
    footer.write_text(footer.read_text(encoding="utf-8").replace("{{ line.label }}", "")
                      .replace("{{ unsubscribe_url }}", "https://mindshape.io/"),
                      encoding="utf-8")
    loaded = load_project(project.root, CONFIG_CHECKS)
    issue = find_issue(loaded.issues, None)
    context = CheckContext(loaded, issue, Renderer(loaded.root, loaded.config).render(issue))
    asked = {rule_id: "note" for rule_id in registry.RULES}
    found = run_rules(PREFLIGHT, context, asked)
    assert {f.rule for f in found} == {"crisis-line", "unsubscribe"}
    assert {f.severity for f in found} == {"error"}


def test_every_module_that_registers_rules_is_imported_by_the_runner():
    """A rule module left out of checks.run.RULE_MODULES would be a rule that never runs."""
    folder = Path(run.__file__).parent
    registering = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule":
                registering.add(f"newsletter.checks.{path.stem}")
    assert registering == {module.__name__ for module in run.RULE_MODULES}
    assert {r.module for r in registry.RULES.values()} == registering


def test_one_problem_type_for_input_errors_and_findings():
    assert Finding is Problem
    problem = Problem("content/a.md", 3, "title", "is empty", "write one")
    assert str(problem) == "content/a.md:3: title: is empty (hint: write one)"
    assert ValidationError([problem]).lines() == [str(problem)]
    found = finding("warning", "content/a.md:3", "speaks of 'x'", "gently", "content-warning")
    assert (found.path, found.line, found.severity) == ("content/a.md", 3, "warning")
    assert found.where == "content/a.md:3"
    assert str(found) == "warning: content/a.md:3: speaks of 'x' (hint: gently)"
    assert found.located() == "content/a.md:3: speaks of 'x' (hint: gently)"
