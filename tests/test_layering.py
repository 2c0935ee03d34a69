"""Data flows one way (audio -> data -> train -> export -> recipe; the runtime beside them on audio and data; bench
above runtime, train and export; recipe above runtime too; plumbing under everything): no module imports a higher
layer, not even lazily inside a function or by naming it to ``python -m``, and no modules import each other in a
circle. Read from the source's import statements and string literals."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "asc_edge"
PLUMBING = "plumbing"  # errors, CLI helpers, atomic writes, output paths: every layer may import it
SHARED = "shared"  # the loose modules at the package root (and the root package itself)
MODEL_FILE = "modelfile"  # the .tflite reader, model card, probe: export writes it, the runtime reads it
MAX_LOOSE_MODULES = 3  # beside __init__.py: the root is a root of packages
ALLOWED = {
    PLUMBING: set(),  # the standard library only: it imports no other asc_edge module, not even SHARED
    SHARED: {"audio", "runtime"},  # the root __init__ is the public API: it names the runtime's classes
    MODEL_FILE: {"audio"},
    "audio": set(),
    "data": {"audio"},
    "train": {"audio", "data"},
    "export": {"audio", "data", "train"},
    "runtime": {"audio", "data"},  # data is numpy-only: asc-eval reads labelled folders with data's readers
    # asc-train cv scores each fold's int8 file as asc-listen decides, with asc-eval's own core (runtime/evaluate)
    "recipe": {"audio", "data", "train", "export", "runtime"},
    # the firmware build: the C files asc-export writes, run on an emulated MCU (never imported by the runtime)
    "mcu": {"audio", "data", "train", "export"},
    "bench": {"audio", "data", "train", "export", "runtime", "mcu"},  # asc-bench runs every engine in a worker
}
# A string that is a module's name (`[sys.executable, "-m", "asc_edge.bench.worker"]`, runpy, importlib; or the
# head of one, f"asc_edge.runtime.{name}") starts that module as surely as an import statement does. Prose that
# mentions a module (a docstring, the message naming the command to run instead) starts nothing.
# The bare word "asc_edge" is no module to start (it is also the model card's metadata name): at least one dot.
MODULE_NAME = re.compile(r"asc_edge(?:\.[a-z_][a-z0-9_]*)+\.?|asc_edge\.")


def _layer(parts: list[str]) -> str:
    """The layer of ``asc_edge.<parts>``: a package's name, or SHARED for the top-level modules."""
    return parts[0] if parts and (PACKAGE / parts[0]).is_dir() else SHARED


def _may_import(source: str, target: str) -> bool:
    if target in (source, PLUMBING) or target in ALLOWED[source]:
        return True
    if target == MODEL_FILE:  # every layer above audio reads or writes model files
        return source not in (PLUMBING, "audio")
    return target == SHARED and source != PLUMBING


def _imports(path: Path, package: list[str] | None = None) -> list[tuple[int, str]]:
    """Every ``asc_edge.*`` module ``path`` imports, anywhere in it: ``import a.b``, ``from a.b import c`` (as
    ``a.b`` and ``a.b.c``: ``c`` may be a module), ``from asc_edge import export`` (as ``asc_edge.export``),
    relative imports, resolved against ``package`` (default: where ``path`` lies in the source tree), and every
    string that is a module's name."""
    package = package or ["asc_edge", *path.relative_to(PACKAGE).parts[:-1]]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            found.append((node.lineno, module))
            # `from asc_edge import export` / `from .. import export`: the names may be subpackages or modules
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            found.append((node.lineno, node.value.rstrip(".")))
    return [(line, name) for line, name in found if name == "asc_edge" or name.startswith("asc_edge.")]


def _module_of(name: str) -> str | None:
    """The source module a dotted name resolves to (``a.b.NAME`` -> ``a.b``), or None outside the tree."""
    parts = name.split(".")[1:]
    while True:
        if (PACKAGE.joinpath(*parts) / "__init__.py").is_file() or (
                parts and PACKAGE.joinpath(*parts[:-1], parts[-1] + ".py").is_file()):
            return ".".join(["asc_edge", *parts])
        if not parts:
            return None
        parts = parts[:-1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(["asc_edge", *(parts[:-1] if parts[-1] == "__init__" else parts)])


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports (lazily or not). A package's ``__init__`` is the package's name; importing
    ``a.b.c`` runs ``a`` and ``a.b`` first, but Python tolerates those partly initialised, so only the module
    named is an edge."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        targets = {_module_of(name) for _, name in _imports(path)}
        graph[source] = {t for t in targets if t is not None and t != source}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` as ``[a, b, ..., a]``, or [] when it is acyclic (depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, pending = [start], [iter(sorted(graph.get(start, ())))]
        while pending:
            step = next(pending[-1], None)
            if step is None:  # every module below path[-1] is acyclic
                done.add(path.pop())
                pending.pop()
            elif step in path:
                return path[path.index(step):] + [step]
            elif step not in done:
                path.append(step)
                pending.append(iter(sorted(graph.get(step, ()))))
    return []


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED) - {SHARED}


def test_the_root_holds_packages_and_at_most_three_loose_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _layer(list(path.relative_to(PACKAGE).parts))
        for line, name in _imports(path):
            target = _layer(name.split(".")[1:])
            if not _may_import(source, target):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({source}) imports {name} ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    circle = _cycle(_import_graph())
    assert not circle, "import circle: " + " -> ".join(circle)


def test_the_circle_check_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    graph = _import_graph()
    assert "asc_edge.bench.worker" in graph["asc_edge.bench.cli"]  # named to `python -m`, not imported
    assert "asc_edge.plumbing.errors" in graph["asc_edge.plumbing.cli_util"]


def test_the_check_sees_every_import_form(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"  # read as if it were a module of asc_edge.train
    module.write_text('"""Never imports asc_edge.recipe (prose)."""\n'
                      "def stage():\n    from asc_edge.export.pipeline import export_checkpoint\n"
                      "import asc_edge.export\nfrom asc_edge import export, plumbing\nfrom ..export import checks\n"
                      "from . import data\n"
                      "command = [sys.executable, '-m', 'asc_edge.export.cli']\n"
                      "runpy.run_module(f'asc_edge.runtime.{name}')\n"
                      "message = 'run python -m asc_edge.recipe.asc_train instead'\n")
    found = _imports(module, ["asc_edge", "train"])
    layers = [(line, _layer(name.split(".")[1:])) for line, name in found]
    assert (3, "export") in layers and (4, "export") in layers and (5, "export") in layers
    assert (6, "export") in layers and (7, "train") in layers and (5, SHARED) in layers
    assert (5, PLUMBING) in layers and (8, "export") in layers and (9, "runtime") in layers
    assert all(layer != "recipe" for _, layer in layers)
    assert not _may_import(PLUMBING, SHARED) and _may_import("audio", PLUMBING) and _may_import("runtime", SHARED)
