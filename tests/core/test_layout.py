"""The shape of the ``storages`` package, read from its source with ``ast``:
no import cycle anywhere (imports under ``TYPE_CHECKING`` count too), and no
helper module of a backend package imports its backend back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import storages

ROOT = Path(storages.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The ``storages`` modules an ``from ... import ...`` statement loads."""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    targets = [base]
    # ``from package import submodule`` loads the submodule too.
    targets += [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    return [t for t in targets if t in MODULES]


def imports_of(module: str, *, with_packages: bool = True) -> set[str]:
    """Every ``storages`` module ``module`` imports, wherever the import stands;
    ``with_packages``: also the packages Python imports on the way to them."""
    path = MODULES[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            found.update(_resolve(module, path, node))
    # Importing ``a.b.c`` first imports the packages ``a.b`` and ``a``.
    for target in list(found) if with_packages else ():
        while "." in target:
            target = target.rpartition(".")[0]
            if target in MODULES:
                found.add(target)
    found.discard(module)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def _parents(module: str) -> set[str]:
    """A module's own packages: importing a package's submodule from inside it is not a cycle."""
    parents, name = set(), module
    while "." in name:
        name = name.rpartition(".")[0]
        parents.add(name)
    return parents


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node] - _parents(node)):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_imports_it_must():
    assert "storages.core.files" in GRAPH["storages.core.base"]
    assert "storages.backends.gcloud.upload" in GRAPH["storages.backends.gcloud"]
    assert "storages.core" in GRAPH["storages.backends.s3"]


def test_find_cycle_reports_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_storages():
    assert find_cycle(GRAPH) is None


BACKEND_PACKAGES = sorted(
    name for name, path in MODULES.items()
    if name.startswith("storages.backends.") and path.name == "__init__.py"
)


def test_backend_packages_exist():
    for package in ("gcloud", "ftp", "sftpstorage", "apache_libcloud"):
        assert f"storages.backends.{package}" in BACKEND_PACKAGES


@pytest.mark.parametrize("package", BACKEND_PACKAGES)
def test_helpers_never_import_their_backend_back(package):
    helpers = [m for m in MODULES if m.startswith(package + ".")]
    assert helpers, f"{package} is a package without helper modules"
    for helper in helpers:
        direct = imports_of(helper, with_packages=False)
        assert package not in direct, f"{helper} imports its backend {package}"


def test_the_core_imports_no_backend():
    for module, targets in GRAPH.items():
        if module.startswith("storages.core"):
            assert not any(t.startswith("storages.backends") for t in targets), module
