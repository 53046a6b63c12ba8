"""The package's layout holds: stages import only backwards, no circles, short modules (issue 12).

Read with the standard library's `ast`, so every import counts: relative and absolute, at
module level, inside functions and under TYPE_CHECKING. (Imports by name through importlib,
as cli.py does for the commands, are not seen.)
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"

# Pipeline order: a module may import from its own stage, an earlier one, or the root.
STAGES = ("source", "render", "mail", "subscribers", "checks", "emit", "web", "commands")
# The root: importable by every stage; it imports only itself (cli.py also commands/).
ROOT_MODULES = {"__init__", "errors", "clock", "output", "sqlite_tx", "cli"}
MAX_ROOT_MODULES = 6
MAX_LINES = 400
OVER_MAX_LINES: set[str] = set()  # modules let over MAX_LINES while being split: none now


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> str:
    """A stage's name, or "root" for the modules at the package's top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else "root"


def imports(module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import of ours in `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if alias.name.split(".")[0] == "newsletter"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "newsletter":
                continue
            for alias in node.names:
                # `from . import qp` imports a module; `from .qp import encode` a name.
                target = f"{source}.{alias.name}"
                found.append((node.lineno, target if target in MODULES else source))
    return found


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE.parent).as_posix()}:{line}"


def test_every_package_is_a_stage():
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages == set(STAGES), "add the package to STAGES, in pipeline order"


def test_stages_import_only_earlier_stages():
    wrong = []
    for module in MODULES:
        stage = stage_of(module)
        for line, target in imports(module):
            to = stage_of(target)
            if stage == "root":
                if to != "root" and not (module == "newsletter.cli" and to == "commands"):
                    wrong.append(f"{where(module, line)} imports {target} (the root may import "
                                 f"only the root, and cli.py commands too; not stage {to})")
            elif to != "root" and STAGES.index(to) > STAGES.index(stage):
                wrong.append(f"{where(module, line)} imports {target} "
                             f"(stage {stage} may not import later stage {to})")
    assert not wrong, "\n".join(["imports against the stage order " + " < ".join(STAGES), *wrong])


def test_no_import_cycle():
    graph: dict[str, dict[str, int]] = {}  # module -> {imported module: line of the import}
    for module in MODULES:
        graph[module] = {}
        for line, target in imports(module):
            if target in MODULES and target != module:
                graph[module].setdefault(target, line)
    cycles, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            ring = path[path.index(module):] + [module]
            lines = [where(a, graph[a][b]) for a, b in itertools.pairwise(ring)]
            cycles.append(f"{' -> '.join(ring)} ({', '.join(lines)})")
            return
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, path + [module])
        done.add(module)

    for module in graph:
        visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_module_over_the_line_limit():
    sizes = {path.relative_to(PACKAGE).as_posix(): len(path.read_text("utf-8").splitlines())
             for path in MODULES.values()}
    too_long = [f"newsletter/{name}: {size} lines, over {MAX_LINES}: split it by what it does"
                for name, size in sizes.items() if size > MAX_LINES and name not in OVER_MAX_LINES]
    split = [f"newsletter/{name}: {sizes.get(name, 0)} lines now: take it off OVER_MAX_LINES"
             for name in OVER_MAX_LINES if sizes.get(name, 0) <= MAX_LINES]
    assert not too_long + split, "\n".join(too_long + split)


def test_few_modules_at_the_package_root():
    root = sorted(path.stem for path in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, (
        f"{len(root)} modules at newsletter/'s root, at most {MAX_ROOT_MODULES}: {root}; "
        "move one into the stage that uses it")
    assert set(root) <= ROOT_MODULES, f"not a root module: {sorted(set(root) - ROOT_MODULES)}"
