"""The layering of the source tree, read from the source with ``ast`` (nothing is imported).

Every import counts: module level and inside functions (an in-function import still ties two modules
together; it only hides the tie from a reader). Imports under ``if TYPE_CHECKING:`` do not run and do
not count. Relative imports are resolved; ``from package import name`` points at the submodule
``package.name`` where one exists, else at the package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# installed name -> source folder (pyproject's package-dir: cli/ installs as symcheck_cli)
PACKAGES = {"symcheck": ROOT / "symcheck", "symcheck_cli": ROOT / "cli"}


def _module_name(package: str, folder: Path, path: Path) -> str:
    """Dotted name of the source file ``path`` inside ``folder`` installed as ``package``."""
    parts = [package, *path.relative_to(folder).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of symcheck/ and cli/."""
    return {
        _module_name(package, folder, path): path
        for package, folder in PACKAGES.items()
        for path in sorted(folder.rglob("*.py"))
    }


def _type_checking_only(node: ast.AST) -> bool:
    """True for ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) blocks."""
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, in_function: bool = False):
    """Yield (import node, inside a function?) for every import that runs, skipping TYPE_CHECKING blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:  # the else branch does run
                yield from _imports(ast.Module(body=[child], type_ignores=[]), in_function)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _imports(node, nested)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Absolute dotted name of the module ``from ... import`` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, path: Path, node: ast.AST, known: set[str]) -> list[tuple[str, str]]:
    """(imported module, imported name or "") pairs of one import statement, modules absolute."""
    if isinstance(node, ast.Import):
        return [(alias.name, "") for alias in node.names]
    source = _resolve(module, path.name == "__init__.py", node)
    out = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        out.append((submodule, "") if submodule in known else (source, alias.name))
    return out


def _closest_known(name: str, known: set[str]) -> str | None:
    """The module of ours that importing ``name`` executes last (``a.b.c`` -> ``a.b`` if c is a name)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, str, bool]]]]:
    """Edges module -> modules of ours it imports, and per module every (target, name, in_function) import."""
    sources = _sources()
    known = set(sources)
    edges: dict[str, set[str]] = {m: set() for m in sources}
    imports: dict[str, list[tuple[str, str, bool]]] = {m: [] for m in sources}
    for module, path in sources.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in _imports(tree):
            for target, name in _targets(module, path, node, known):
                imports[module].append((target, name, in_function))
                ours = _closest_known(target, known)
                if ours is not None and ours != module:
                    edges[module].add(ours)
    return edges, imports


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted: the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


# --- the helpers themselves, on small hand-made graphs and sources ---------------------------------


def test_strongly_connected_finds_cycles_and_only_cycles():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}}) == [
        ["a", "b", "c"], ["d", "e"]]


def test_imports_are_found_in_functions_and_skipped_under_type_checking():
    tree = ast.parse(
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .x import X\nelse:\n    import json\n"
        "def f():\n    from .y import g\n    return g\n"
        "class C:\n    def m(self):\n        import math\n"
    )
    found = [(ast.unparse(node), inside) for node, inside in _imports(tree)]
    assert found == [
        ("import os", False),
        ("from typing import TYPE_CHECKING", False),
        ("import json", False),
        ("from .y import g", True),
        ("import math", True),
    ]


def test_relative_imports_resolve_to_submodules_or_packages():
    known = {"symcheck", "symcheck.groups", "symcheck.groups.naming", "symcheck.o3"}
    init = Path("symcheck/groups/__init__.py")
    plain = Path("symcheck/groups/detect.py")
    (node,) = ast.parse("from . import naming, DEFAULT").body
    assert _targets("symcheck.groups", init, node, known) == [
        ("symcheck.groups.naming", ""), ("symcheck.groups", "DEFAULT")]
    assert _targets("symcheck.groups.detect", plain, node, known) == [
        ("symcheck.groups.naming", ""), ("symcheck.groups", "DEFAULT")]
    (node,) = ast.parse("from ..o3 import irreps_D").body
    assert _targets("symcheck.groups.detect", plain, node, known) == [("symcheck.o3", "irreps_D")]
    assert _closest_known("symcheck.o3.irreps_D", known) == "symcheck.o3"
    assert _closest_known("numpy.linalg", known) is None


# --- the tree ---------------------------------------------------------------------------------------


def test_the_graph_sees_the_whole_tree():
    edges, imports = import_graph()
    assert "symcheck" in edges and "symcheck.groups" in edges and "symcheck_cli.main" in edges
    assert any(target == "symcheck" for target, _, _ in imports["symcheck_cli.main"])


def shortest_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """For every import that lies on a cycle, the shortest cycle through it (deduplicated, shortest first)."""
    found = set()
    for component in strongly_connected(edges):
        inside = set(component)
        for a in component:
            for b in sorted(edges[a] & inside):
                path = _shortest_path(edges, b, a, inside)
                k = path.index(min(path))  # one rotation per cycle
                found.add(tuple(path[k:] + path[:k]))
    return [list(c) for c in sorted(found, key=lambda c: (len(c), c))]


def _shortest_path(edges: dict[str, set[str]], start: str, goal: str, inside: set[str]) -> list[str]:
    """Breadth-first path start -> ... -> goal inside one strongly connected component (it exists)."""
    previous = {start: None}
    frontier = [start]
    while goal not in previous:
        reached = []
        for v in frontier:
            for w in sorted(edges[v] & inside):
                if w not in previous:
                    previous[w] = v
                    reached.append(w)
        frontier = reached
    path = [goal]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]


def test_shortest_cycles_name_each_cycle_once():
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"a"}, "d": {"a"}}
    assert shortest_cycles(edges) == [["a", "b"], ["a", "b", "c"]]


def test_no_import_cycles():
    """Data flows one way (structures → groups → fixed spaces → prediction → training → reports → CLI)."""
    edges, _ = import_graph()
    cycles = shortest_cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles)


def test_the_library_never_imports_the_cli():
    """The CLI sits on top; only ``symcheck/__main__.py`` (``python -m symcheck``) starts it."""
    _, imports = import_graph()
    bad = [(m, t) for m, found in imports.items() if m.split(".")[0] == "symcheck" and m != "symcheck.__main__"
           for t, _, _ in found if t.split(".")[0] in ("symcheck_cli", "cli")]
    assert not bad, f"symcheck imports the CLI: {bad}"


def _private(dotted: str) -> bool:
    """True for a name or module path with a private part (``_x``, not ``__dunder__``)."""
    return any(part.startswith("_") and not part.endswith("__") for part in dotted.split(".") if part)


def test_the_cli_imports_no_private_names():
    _, imports = import_graph()
    bad = [
        f"{m}: {t}{'.' + n if n else ''}"
        for m, found in imports.items() if m.startswith("symcheck_cli")
        for t, n, _ in found
        if t.split(".")[0] == "symcheck" and (_private(t) or _private(n))
    ]
    assert not bad, "the CLI imports private names of the library:\n" + "\n".join(bad)


@pytest.mark.parametrize("name, private", [("_fmt_axis", True), ("__version__", False),
                                           ("symcheck.groups._x", True), ("symcheck.groups", False)])
def test_private_names_are_recognised(name, private):
    assert _private(name) is private


def _lazy_names() -> list[str]:
    """The public names of ``symcheck/__init__.py``'s lazy table (``_LAZY``), read from the source."""
    tree = ast.parse((PACKAGES["symcheck"] / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            return [key.value for key in node.value.keys]
    raise AssertionError("symcheck/__init__.py has no _LAZY table")


def test_no_module_shares_a_name_with_a_public_function():
    """``import symcheck.<name>`` binds the module as an attribute of the package: a module named like a
    public function (``symcheck.modes``, ``symcheck.train``) would shadow the function (the callable-module
    hack existed to paper over that)."""
    names = _lazy_names()
    assert "modes" in names and "train" in names
    clashes = [n for n in names if (PACKAGES["symcheck"] / f"{n}.py").exists() or (PACKAGES["symcheck"] / n).is_dir()]
    assert not clashes, f"modules named like public functions of symcheck: {clashes}"


def test_sc_modes_stays_the_function_after_importing_its_modules():
    """In a fresh interpreter (nothing cached): every module of symcheck.distortion imported, then ``sc.modes``."""
    code = (
        "import importlib, pkgutil, types, symcheck as sc, symcheck.distortion as d\n"
        "for m in pkgutil.iter_modules(d.__path__):\n"
        "    importlib.import_module(f'symcheck.distortion.{m.name}')\n"
        "assert isinstance(sc.modes, types.FunctionType), type(sc.modes)\n"
        "assert sc.modes is d.modes\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr


def test_every_package_is_installed():
    """pyproject lists packages by hand: a package missing there is missing from a wheel (editable installs hide it)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "symcheck").rglob("__init__.py")}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
