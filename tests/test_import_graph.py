"""The import rules, read from the source with ``ast`` (nothing is imported or executed):

- ``cli/`` (installed as ``sncse_cli``) imports the library; the library never imports the CLI;
- ``plugins/`` (``sncse_plugins``) imports ``sncse`` and third-party packages, never the CLI or typer/rich;
- ``sncse/`` never imports ``sncse_cli``, ``sncse_plugins``, typer or rich (it logs through ``logging``);
- no import cycle between the subpackages of ``sncse`` (``sncse.data``, ``sncse.eval``, ... and the
  top-level modules ``sncse.io``, ``sncse.registry``, ...), nor between any two modules;
- the layers (:data:`LAYERS`, ground first, at most nine from the ground to the CLI): every module of
  ``sncse``, ``sncse_cli`` and ``sncse_plugins`` has its layer, and none imports a module of a higher one;
- ``scripts/`` and ``bench/`` use the library's public names only (no ``_private`` import or attribute).

Every rule counts every import: module-level statements (under a module-level ``try``/``if`` too),
imports inside a function or method, and those under ``if TYPE_CHECKING:``. An import inside a
function runs only when it is called (that is how ``sncse.load`` and ``sncse.eval.run_eval`` stay cheap
to import) and one under ``TYPE_CHECKING`` never runs, but both say that the importer depends on the
imported module, so both point down like any other. They are listed apart (``lazy``) only so that a
test can tell them from the imports that run when a module is imported (``eager``).
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
    """(eager, lazy) imports of one file, as absolute dotted module names: eager ones run when the module
    is imported; lazy ones are inside a function or under ``if TYPE_CHECKING:``."""
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
            elif _type_checking(child):  # the body never runs; an ``else:`` runs at import
                visit(ast.Module(body=child.body, type_ignores=[]), False)
                visit(ast.Module(body=child.orelse, type_ignores=[]), at_top)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                (eager if at_top else lazy).update(targets(child))
            else:
                visit(child, at_top)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), True)
    return eager, lazy


def _graph() -> dict[str, tuple[set[str], set[str]]]:
    return {module_name(p): imports(p) for folder in PACKAGES.values() for p in sorted(folder.rglob("*.py"))}


#: The layers, ground first. A module may import its own layer and those below it, never one above.
#: A name stands for the module and everything under it (``sncse.eval`` is ``sncse.eval.*``); the
#: package ``sncse`` itself (its face: ``sncse.load``, ``sncse.__version__``) stands for itself only.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("sncse.errors", "sncse.progress", "sncse.version")),
    ("base", ("sncse.io", "sncse.outputs", "sncse.registry", "sncse.resumable", "sncse.shards")),
    ("settings and rules", ("sncse.config", "sncse.negation", "sncse.rundir", "sncse.runinfo")),
    ("models and data", ("sncse.encoders", "sncse.losses", "sncse.data", "sncse_plugins")),
    ("using a model", ("sncse.eval", "sncse.embed", "sncse.serve")),
    ("training and search", ("sncse.train", "sncse.search")),
    ("analysis", ("sncse.analyze",)),
    ("applications", ("sncse.export", "sncse.demo")),
    ("faces", ("sncse", "sncse.st", "sncse_cli")),
]


def layer_of(module: str) -> int | None:
    """The index in :data:`LAYERS` of ``module``'s layer (the longest name that covers it), or None."""
    best: tuple[int, int] | None = None  # (length of the name, layer)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            covers = module == name or (name != "sncse" and module.startswith(name + "."))
            if covers and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return best[1] if best else None


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
    assert "sncse.encoders.loading" in lazy  # `from ..encoders.loading import load` inside run_eval
    assert "sncse.registry" in graph["sncse.encoders.model"][0]  # `from .. import registry`
    assert "typer" in graph["sncse_cli.main"][0]
    assert "sncse.encoders.model" not in graph["sncse.encoders"][0]  # only under TYPE_CHECKING / in a function
    assert "sncse.encoders.model" in graph["sncse.encoders"][1]  # ... and counted there
    assert "sncse.config.schema" in graph["sncse.losses.base"][1]  # under TYPE_CHECKING


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
    for module, (eager, lazy) in graph.items():
        if _top(module) != "sncse":
            continue
        for target in eager | lazy:
            if _top(target) == "sncse" and subpackage(target) != subpackage(module):
                edges[subpackage(module)].add(subpackage(target))
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])
    assert "sncse.data" in edges["sncse.eval"]  # the graph is not empty


def test_no_cycle_between_modules(graph):
    edges = {module: {t for t in eager | lazy if t in graph and t != module} for module, (eager, lazy) in graph.items()}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_at_most_nine_layers_from_the_ground_to_the_cli():
    assert 1 < len(LAYERS) <= 9
    assert layer_of("sncse_cli.main") == len(LAYERS) - 1 and layer_of("sncse.errors") == 0
    names = [name for _, members in LAYERS for name in members]
    assert len(names) == len(set(names)), "a name stands in two layers"


def test_every_module_has_a_layer(graph):
    assert sorted(m for m in graph if layer_of(m) is None) == []


def test_no_import_from_a_higher_layer(graph):
    """Module-level, lazy and TYPE_CHECKING imports alike: an arrow only ever points down (or across)."""
    layer = {m: layer_of(m) for m in graph}
    up = sorted(f"{m} ({LAYERS[layer[m]][0]}) -> {t} ({LAYERS[layer[t]][0]})"
                for m, (eager, lazy) in graph.items() if layer[m] is not None
                for t in eager | lazy if layer.get(t) is not None and layer[t] > layer[m])
    assert up == []


def test_layer_of():
    assert layer_of("sncse") == len(LAYERS) - 1  # the package's face, not everything under it
    assert layer_of("sncse.eval.sts") == layer_of("sncse.eval")
    assert layer_of("sncse.nothing") is None


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
