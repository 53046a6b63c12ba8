"""A stage declares its own newsletter.yaml section and checks (source/sections.py, issue 12).

A fake stage, a module written here and imported as a later stage's would be, declares a
section and a cross-section check without any edit to source/config.py; its problems come
with lines like the core sections' do. And, read from the source: every module that loads
newsletter.yaml imports every module that declares a part of it, so none is ever missing.
"""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap

import pytest
from conftest import Project
from test_layout import MODULES, imports

from newsletter.errors import ConfigError
from newsletter.mail import sections as mail_sections  # declared as in every real run
from newsletter.source import sections
from newsletter.source.config import load_config

# mail/'s own sections, declared by importing mail.sections, before the fake stage's.
MAIL_SECTIONS = [name for name, declared in sections.SECTIONS.items()
                 if declared.owner.startswith(mail_sections.__package__)]

FAKE_STAGE = '''\
"""A later stage's module: declares `relay:` and a check across it and `sender:`."""
from dataclasses import dataclass

from newsletter.source import fields as f
from newsletter.source.schema import Section, optional, required
from newsletter.source.sections import declare_check, declare_section


@dataclass(frozen=True)
class Relay:
    host: str
    port: int


def _not_the_sender(values):
    if values["relay"].host != values["sender"].domain:
        return []
    return [(("relay", "host"), "is the sender's own domain", "name the relay's host")]


declare_section("relay", Section({"host": required(f.text(100)),
                                  "port": optional(f.positive_int, 587)}, Relay,
                                 required=False), owner=__name__)
declare_check("relay_host", _not_the_sender, needs=("relay", "sender"), owner=__name__)
'''


@pytest.fixture
def fake_stage(tmp_path, monkeypatch):
    """Import the fake stage into copies of the registry, put back after the test."""
    monkeypatch.setattr(sections, "SECTIONS", dict(sections.SECTIONS))
    monkeypatch.setattr(sections, "CHECKS", dict(sections.CHECKS))
    (tmp_path / "fake_stage.py").write_text(FAKE_STAGE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_stage", raising=False)
    return importlib.import_module("fake_stage")


def problems(project: Project, relay: str) -> list[str]:
    """load_config's problems once `relay` (dedented if it starts a line) is added to
    newsletter.yaml."""
    added = textwrap.dedent(relay) if relay.startswith("\n") else relay
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8") + added,
                      encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(project.root)
    return [problem.located().replace(str(project.root) + "/", "")
            for problem in error.value.problems]


def last_line(project: Project) -> int:
    return len((project.root / "newsletter.yaml").read_text(encoding="utf-8").splitlines())


def test_a_stage_section_reports_unknown_and_missing_keys_with_lines(project, fake_stage):
    end = last_line(project)
    assert problems(project, """
        relay:
          hots: smtp.example.org
        """) == [
        f"newsletter.yaml:{end + 3}: relay.hots: is not a known field (hint: remove it or fix "
        "its spelling; known fields: host, port)",
        f"newsletter.yaml:{end + 2}: relay.host: is required (hint: add a line 'host: ...')"]


def test_a_stage_check_runs_once_its_sections_are_valid(project, fake_stage):
    end = last_line(project)
    assert problems(project, """
        relay:
          host: mindshape.io
        """) == [f"newsletter.yaml:{end + 3}: relay.host: is the sender's own domain "
                 "(hint: name the relay's host)"]
    # A key of its own wrong: the check waits, and the key's problem is the one reported.
    assert problems(project, "  port: 0\n") == [
        f"newsletter.yaml:{end + 4}: relay.port: must be a whole number of at least 1, got 0 "
        "(hint: for example 3)"]


def test_a_stage_section_is_in_the_config_and_in_the_top_level_hint(project, fake_stage):
    assert load_config(project.root).sections["relay"] is None  # optional, left out
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "relay:\n  host: relay.example.org\n",
                      encoding="utf-8")
    assert load_config(project.root).sections["relay"] == fake_stage.Relay(
        "relay.example.org", 587)
    [unknown] = problems(project, "relais: {}\n")
    assert unknown.endswith("known fields: name, language, site_url, archive_url, sender, "
                            "reply_to, list_id, signup, cadence, compose, brand, footer, check, "
                            f"{', '.join(sorted([*MAIL_SECTIONS, 'relay']))})")


def test_two_stages_cannot_claim_one_name(fake_stage):
    with pytest.raises(ValueError, match="'relay' is declared by both fake_stage and other"):
        sections.declare_section("relay", sections.SECTIONS["relay"].entry, owner="other")
    with pytest.raises(ValueError, match="'footer' is declared by both"):
        sections.declare_section("footer", sections.SECTIONS["relay"].entry, owner="other")


def test_a_check_passed_in_as_well_as_declared_runs_once(project):
    from newsletter.mail.mailto import CONFIG_CHECKS

    config = project.root / "newsletter.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  unsubscribe_body: Please remove me",
                                   "  unsubscribe_body: " + "é" * 300), encoding="utf-8")
    for passed in ((), CONFIG_CHECKS):
        with pytest.raises(ConfigError) as error:
            load_config(project.root, passed)
        [problem] = error.value.problems
        assert problem.field == "signup.unsubscribe_body"


# --- what keeps a declaration from being missed -----------------------------------------------

DECLARE = {"declare_section", "declare_check"}
LOAD = {"load_config", "load_project"}


def calls(module: str, names: set[str]) -> bool:
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    return any(isinstance(node, ast.Call) and getattr(node.func, "id",
                                                      getattr(node.func, "attr", None)) in names
               for node in ast.walk(tree))


def import_lines(module: str) -> set[int]:
    """The lines of the imports that run when `module` is imported: at module level, not
    under TYPE_CHECKING, not inside a function (which may run after the config is loaded)."""
    lines, todo = set(), list(ast.parse(MODULES[module].read_text("utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.add(node.lineno)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody
    return lines


def imported_by(module: str) -> set[str]:
    """Every module of ours that importing `module` imports, at any depth."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        for line, target in imports(current):
            if line in import_lines(current) and target in MODULES and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_module_that_loads_the_config_imports_every_declaration():
    declaring = {m for m in MODULES if calls(m, DECLARE) and m != "newsletter.source.sections"}
    assert "newsletter.mail.mailto" in declaring
    loaders = [m for m in MODULES if calls(m, LOAD) and not m.startswith("newsletter.source.")]
    assert loaders, "no module loads newsletter.yaml?"
    missing = [f"{module} loads newsletter.yaml without importing {declarer}, which declares "
               "a part of it: import it, or the module that imports every declaration"
               for module in loaders for declarer in sorted(declaring - imported_by(module))]
    assert not missing, "\n".join(missing)
