"""The code's layout keeps its promises: no import circles between the project's modules, no
module past ~800 lines, and a registry app whose top floor a newcomer can read at a glance.

The imports are read from the source (not by importing), late imports inside functions
included: a late import that hides a circle is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("fengxian", "couriers", "stations", "activities")
MAX_LINES = 800
MAX_COURIERS_TOP_MODULES = 16


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _with_packages(name: str, modules: dict[str, Path], importer: str) -> set[str]:
    """Importing a.b.c runs a, a.b and a.b.c: each is an edge, except the packages that hold
    the importer itself (a package's own modules are loaded while it is)."""
    parts = name.split(".")
    own = importer.split(".")
    holding = {".".join(own[:i]) for i in range(1, len(own))}
    implied = {".".join(parts[:i]) for i in range(1, len(parts))} - holding
    return ({name} | implied) & modules.keys()


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets |= _with_packages(alias.name, modules, name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            targets |= _with_packages(source, modules, name)
            for alias in node.names:
                targets |= _with_packages(f"{source}.{alias.name}", modules, name)
    targets.discard(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
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
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_module_importing_its_own_package_is_a_circle():
    modules = project_modules()
    # couriers.models re-exports its modules; one of them importing `couriers.models` back
    # would be a circle, while importing a sibling (couriers.models.registry) is not.
    graph = {"couriers.models": {"couriers.models.casework"}, "couriers.models.registry": set()}
    graph["couriers.models.casework"] = _with_packages(
        "couriers.models", modules, "couriers.models.casework"
    )
    assert cycles(graph) == [["couriers.models", "couriers.models.casework"]]
    graph["couriers.models.casework"] = _with_packages(
        "couriers.models.registry", modules, "couriers.models.casework"
    )
    assert cycles(graph) == []


def test_graph_sees_late_and_package_imports():
    graph = import_graph()
    # A late import inside a function counts (couriers.apps imports these in ready()).
    assert "couriers.roles" in graph["couriers.apps"]
    # Importing a module of a sub-package runs the sub-package too (a late import here).
    assert {"couriers.imports", "couriers.imports.importers"} <= graph["stations.apps"]


def test_no_import_circle_between_project_modules():
    assert cycles(import_graph()) == []


def test_dependencies_run_one_way_between_apps():
    """couriers ← stations ← activities: no module of a lower app imports a higher one."""
    floor = {"couriers": 0, "stations": 1, "activities": 2}
    wrong = [
        (name, target)
        for name, targets in import_graph().items()
        for target in targets
        if name.split(".")[0] in floor
        and target.split(".")[0] in floor
        and floor[target.split(".")[0]] > floor[name.split(".")[0]]
    ]
    assert wrong == []


def test_no_module_over_800_lines():
    long = {
        str(path.relative_to(ROOT)): length
        for folder in (*APPS, "bench", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        and (length := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_registry_app_top_floor_stays_small():
    top = sorted(path.name for path in (ROOT / "couriers").glob("*.py"))
    assert len(top) <= MAX_COURIERS_TOP_MODULES, top
