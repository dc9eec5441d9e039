"""The package's shape: no import cycle, no import of another module's private names.

The import graph is built from the source with ``ast`` (imports inside
functions count: a lazy import still ties two modules together).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("toolkit", "widgets")
#: shared-helper modules whose private-looking names are the documented home of shared pieces
SHARED_MODULES = {"_util", "_common"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            out[_module_name(p)] = p
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve_from(module: str, node: ast.ImportFrom) -> str | None:
    if node.level:
        base = module.split(".")
        if not _is_package(module):
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module


def _imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve_from(module, node)
            if target is None:
                continue
            for a in node.names:
                out.append((target, a.name, node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, name, _ in _imports(module, path):
            if target.split(".")[0] not in PACKAGES:
                continue
            sub = f"{target}.{name}" if name else None
            dest = sub if sub in MODULES else target
            if dest in MODULES and dest != module:
                graph[module].add(dest)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_graph_builder_sees_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_covers_the_packages():
    g = _graph()
    assert "toolkit.weights" in g["toolkit.focal.model"] or any(
        "toolkit.weights" in deps for deps in g.values()
    )
    assert len(g) > 50


def test_no_import_cycle():
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _private_imports() -> list[str]:
    bad = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve_from(module, node) or ""
                if target.split(".")[0] not in PACKAGES or target == module:
                    continue
                for a in node.names:
                    full = f"{target}.{a.name}"
                    if full in MODULES:
                        module_aliases[a.asname or a.name] = full
                        if a.name.startswith("_") and a.name not in SHARED_MODULES:
                            bad.append(f"{module}:{node.lineno} imports private module {full}")
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        bad.append(f"{module}:{node.lineno} imports private name {target}.{a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES and a.asname:
                        module_aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                bad.append(f"{module}:{node.lineno} uses private {module_aliases[node.value.id]}.{node.attr}")
    return bad


def test_no_module_imports_another_modules_private_names():
    bad = _private_imports()
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _is_package(m)))
def test_star_import_of_every_package_works(module):
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", [])
    missing = [n for n in names if not hasattr(mod, n)]
    # geo exposes its submodules lazily through __getattr__, which hasattr() reaches
    assert not missing, f"{module}.__all__ lists names it does not define: {missing}"
    exec(f"from {module} import *", {})
