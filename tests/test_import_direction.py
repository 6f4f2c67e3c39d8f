"""The apps depend on each other in one direction only (docs/architecture.md):

    core  <-  departments  <-  processes  <-  evaluations        (config imports them all)

Read from the source with `ast`, so that it holds for imports inside functions too (except for the
cycle check, which follows module-level imports: those are the ones that run at import time).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "departments", "processes", "evaluations")
# app -> the project packages it must not import
FORBIDDEN = {
    "core": {"departments", "processes", "evaluations", "config"},
    "departments": {"processes", "evaluations", "config"},
    "processes": {"evaluations", "config"},
    "evaluations": {"config"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(apps=APPS):
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield _module_name(path), path


def _imports(path: Path, module: str, *, module_level_only: bool, text: str | None = None) -> set[str]:
    """Dotted names `module` imports (`from a import b` counts as both a and a.b; the callers keep
    the names that are modules of the project)."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:
        # Imports under a module-level `if`/`try` run at import time too; TYPE_CHECKING blocks do not.
        flat: list[ast.stmt] = []
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.If | ast.Try):
                flat.extend(ast.walk(node))
            else:
                flat.append(node)
        nodes = flat
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph(*, module_level_only: bool) -> dict[str, set[str]]:
    modules = dict(_sources())
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = _imports(path, module, module_level_only=module_level_only)
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _violations() -> list[str]:
    wrong = []
    for module, path in _sources():
        app = module.split(".")[0]
        for target in sorted(_imports(path, module, module_level_only=False)):
            if target.split(".")[0] in FORBIDDEN[app]:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_each_app_imports_only_the_apps_below_it():
    assert _violations() == []


def test_no_module_level_import_cycle():
    assert _cycles(_graph(module_level_only=True)) == []


def test_the_checks_see_a_forbidden_import_and_a_cycle():
    """The two checks above would fail on the mistakes they are for."""
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "b.w": {"a.x"}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    source = "def f():\n    from evaluations.models import Kpi\nimport config.beat\nfrom . import rules\n"
    probe = ROOT / "departments" / "probe.py"
    names = _imports(probe, "departments.probe", module_level_only=False, text=source)
    assert {"evaluations.models", "config.beat", "departments.rules"} <= names
    assert "evaluations.models" not in _imports(
        probe, "departments.probe", module_level_only=True, text=source
    )
