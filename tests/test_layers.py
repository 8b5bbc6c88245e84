"""The package's folders are its layers: core < stages < readings < app (bench beside the app).

A module imports only its own layer and the layers below it, at module level and inside functions
alike, and no two modules import each other through any chain (no circle). This test reads every
import statement of the package with `ast`, so it holds for imports that run late as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nlakit

PACKAGE = Path(nlakit.__file__).parent
LAYERS = {"core": 0, "stages": 1, "readings": 2, "app": 3, "bench": 3}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every nlakit name `path` imports, resolved to dotted form (relative imports included, at any depth)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nlakit"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("nlakit"):
                continue
            found.add(target)
            found.add(target + ":")  # the module part itself must exist
            found.update(f"{target}.{a.name}" for a in node.names)  # `from . import dataset` names a module
    return found


def modules() -> set[str]:
    return {module_name(p) for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """The nlakit modules `path` imports."""
    name, known = module_name(path), modules()
    return {m.rstrip(":") for m in imported_names(path) if m.rstrip(":") in known and m.rstrip(":") != name}


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_lives_in_a_layer():
    loose = [m for m in graph() if m != "nlakit" and layer(m) is None]
    assert not loose, f"modules outside core/stages/readings/app/bench: {loose}"


def test_every_import_resolves():
    """A relative import with one dot too few or too many names no module: caught here, not at run time."""
    known = modules()
    missing = [f"{module_name(p)} -> {m[:-1]}" for p in PACKAGE.rglob("*.py") for m in imported_names(p)
               if m.endswith(":") and m[:-1] not in known]
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(sorted(missing))


def test_imports_point_down():
    upward = [f"{m} -> {t}" for m, targets in graph().items() for t in targets
              if layer(m) is not None and layer(t) is not None and layer(t) > layer(m)]
    assert not upward, "imports that point up a layer:\n" + "\n".join(sorted(upward))


def test_core_imports_only_core():
    outside = [f"{m} -> {t}" for m, targets in graph().items() if layer(m) == 0 for t in targets if layer(t) not in (0, None)]
    assert not outside, "\n".join(outside)


def test_no_circle():
    edges = graph()
    for m in edges:  # package __init__ files re-export; a parent importing its child is not a circle
        edges[m] = {t for t in edges[m] if not t.startswith(m + ".") and not m.startswith(t + ".")}
    state: dict[str, int] = {}
    circles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_checker_sees_relative_and_late_imports(tmp_path):
    """A guard on the guard: a function-level relative import is resolved like a top-level one."""
    source = PACKAGE / "core" / "nla.py"
    found = imports_of(source)
    assert "nlakit.core.ar" in found and "nlakit.core.av" in found
