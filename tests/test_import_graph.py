"""The import rules, read from the source with ``ast`` (nothing is imported or executed):

- ``cli/`` (installed as ``sncse_cli``) imports the library; the library never imports the CLI;
- ``plugins/`` (``sncse_plugins``) imports ``sncse`` and third-party packages, never the CLI or typer/rich;
- ``sncse/`` never imports ``sncse_cli``, ``sncse_plugins``, typer or rich (it logs through ``logging``);
- no import cycle between the subpackages of ``sncse`` (``sncse.data``, ``sncse.eval``, ... and the
  top-level modules ``sncse.io``, ``sncse.registry``, ...).
- ``scripts/`` and ``bench/`` use the library's public names only (no ``_private`` import or attribute).

What counts for the cycle rule: imports that run when a module is imported, i.e. module-level
statements, including those under a module-level ``try``/``if``, but not those under
``if TYPE_CHECKING:``. Imports inside a function or method run only when it is called; they are
allowed to point anywhere inside ``sncse`` (that is how ``sncse.load`` or ``sncse.eval.run_eval``
stay cheap to import) and are listed separately (``lazy``), not counted for cycles. The first three
rules count every import, lazy or not.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# installed name -> source folder
PACKAGES = {"sncse": REPO / "sncse", "sncse_cli": REPO / "cli", "sncse_plugins": REPO / "plugins"}
UI = ("typer", "rich", "click")


def module_name(path: Path) -> str:
    for name, folder in PACKAGES.items():
        if path.is_relative_to(folder):
            parts = [name, *path.relative_to(folder).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(path)


def _is_module(dotted: str) -> bool:
    name, *rest = dotted.split(".")
    if name not in PACKAGES:
        return False
    base = PACKAGES[name].joinpath(*rest)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports(path: Path) -> tuple[set[str], set[str]]:
    """(module-level imports, lazy imports) of one file, as absolute dotted module names."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    eager: set[str] = set()
    lazy: set[str] = set()

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        # `from .. import registry` imports the module sncse.registry; `from .x import name` imports sncse.x
        return [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]

    def visit(node: ast.AST, at_top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            elif _type_checking(child):
                continue
            elif isinstance(child, ast.Import | ast.ImportFrom):
                (eager if at_top else lazy).update(targets(child))
            else:
                visit(child, at_top)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), True)
    return eager, lazy


def _graph() -> dict[str, tuple[set[str], set[str]]]:
    return {module_name(p): imports(p) for folder in PACKAGES.values() for p in sorted(folder.rglob("*.py"))}


def subpackage(module: str) -> str:
    """``sncse.eval.sts`` -> ``sncse.eval``; ``sncse.io`` -> ``sncse.io``; ``sncse`` -> ``sncse``."""
    return ".".join(module.split(".")[:2])


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph ``edges`` (as a closed path), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := dfs(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := dfs(start)):
            return found
    return None


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, tuple[set[str], set[str]]]:
    return _graph()


def test_the_scan_sees_the_code(graph):
    """Guards the rules below against passing on an empty or mis-parsed tree."""
    assert len([m for m in graph if m.startswith("sncse.")]) > 60
    eager, lazy = graph["sncse.eval.runner"]
    assert {"sncse.data.tasks", "sncse.errors", "sncse.eval.results"} <= eager
    assert "sncse.encoders" in lazy  # `from ..encoders import SentenceEncoder` inside run_eval
    assert "sncse.registry" in graph["sncse.encoders.model"][0]  # `from .. import registry`
    assert "typer" in graph["sncse_cli.main"][0]
    assert "sncse.encoders.model" not in graph["sncse.encoders"][0]  # only under TYPE_CHECKING / in a function


def test_library_never_imports_cli_plugins_or_ui(graph):
    bad = {m: sorted(t for t in eager | lazy if _top(t) in ("sncse_cli", "sncse_plugins", "cli", "plugins", *UI))
           for m, (eager, lazy) in graph.items() if _top(m) == "sncse"}
    assert {m: t for m, t in bad.items() if t} == {}


def test_plugins_import_only_the_library(graph):
    bad = {m: sorted(t for t in eager | lazy if _top(t) in ("sncse_cli", "cli", *UI))
           for m, (eager, lazy) in graph.items() if _top(m) == "sncse_plugins"}
    assert {m: t for m, t in bad.items() if t} == {}
    assert any(_top(t) == "sncse" for m, (e, lz) in graph.items() if _top(m) == "sncse_plugins" for t in e | lz)


def test_cli_imports_the_library_and_nothing_imports_the_cli(graph):
    assert any(_top(t) == "sncse" for m, (e, lz) in graph.items() if _top(m) == "sncse_cli" for t in e | lz)
    users = {m for m, (e, lz) in graph.items() if _top(m) != "sncse_cli" and any(_top(t) == "sncse_cli" for t in e | lz)}
    assert users == set()


def test_no_cycle_between_subpackages(graph):
    edges: dict[str, set[str]] = defaultdict(set)
    for module, (eager, _) in graph.items():
        if _top(module) != "sncse":
            continue
        for target in eager:
            if _top(target) == "sncse" and subpackage(target) != subpackage(module):
                edges[subpackage(module)].add(subpackage(target))
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])
    assert "sncse.data" in edges["sncse.eval"]  # the graph is not empty


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) in (["a", "b", "c", "a"],)
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_scripts_and_bench_use_public_names_only():
    """scripts/ and bench/ are thin callers: no ``from sncse.x import _private``, no ``obj._private``."""
    bad = []
    for path in sorted([*(REPO / "scripts").glob("*.py"), *(REPO / "bench").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sncse":
                names = [*(node.module or "").split("."), *(a.name for a in node.names)]
                bad += [f"{path.name}:{node.lineno}: {n}" for n in names if n.startswith("_")]
            elif isinstance(node, ast.Import):
                bad += [f"{path.name}:{node.lineno}: {a.name}" for a in node.names
                        if a.name.split(".")[0] == "sncse" and any(p.startswith("_") for p in a.name.split("."))]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                bad.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert bad == []
