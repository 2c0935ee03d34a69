"""Data flows one way (audio -> data -> train -> export -> recipe; the runtime beside them on audio alone): no
module imports a higher layer, not even lazily inside a function. Read from the source's import statements."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "asc_edge"
SHARED = "shared"  # the top-level modules (errors, atomic_io, cli_util, ...)
# Packages at the shared level: every layer, the runtime included, may import them (numpy and the standard
# library only; they import nothing above audio)
SHARED_PACKAGES = {"modelfile"}
ALLOWED = {
    SHARED: {"audio"},
    "audio": set(),
    "data": {"audio"},
    "train": {"audio", "data"},
    "export": {"audio", "data", "train"},
    "runtime": {"audio"},
    "recipe": {"audio", "data", "train", "export"},
}


def _layer(parts: list[str]) -> str:
    """The layer of ``asc_edge.<parts>``: a package's name, or SHARED for the top-level modules and packages."""
    if not parts or parts[0] in SHARED_PACKAGES or not (PACKAGE / parts[0]).is_dir():
        return SHARED
    return parts[0]


def _imports(path: Path, package: list[str] | None = None) -> list[tuple[int, str]]:
    """Every ``asc_edge.*`` module ``path`` imports, anywhere in it: ``import a.b``, ``from a.b import c``,
    ``from asc_edge import export`` (as ``asc_edge.export``) and relative imports, resolved against
    ``package`` (default: where ``path`` lies in the source tree)."""
    package = package or ["asc_edge", *path.relative_to(PACKAGE).parts[:-1]]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            found.append((node.lineno, module))
            # `from asc_edge import export` / `from .. import export`: the names may be subpackages
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if module == "asc_edge"]
    return [(line, name) for line, name in found if name == "asc_edge" or name.startswith("asc_edge.")]


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == (set(ALLOWED) - {SHARED}) | SHARED_PACKAGES


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _layer(list(path.relative_to(PACKAGE).parts))
        for line, name in _imports(path):
            target = _layer(name.split(".")[1:])
            if target not in (source, SHARED) and target not in ALLOWED[source]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({source}) imports {name} ({target})")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_every_import_form(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"  # read as if it were a module of asc_edge.train
    module.write_text("def stage():\n    from asc_edge.export.pipeline import export_checkpoint\n"
                      "import asc_edge.export\nfrom asc_edge import export, errors\nfrom ..export import checks\n"
                      "from . import data\n")
    found = _imports(module, ["asc_edge", "train"])
    layers = [(line, _layer(name.split(".")[1:])) for line, name in found]
    assert (2, "export") in layers and (3, "export") in layers and (4, "export") in layers
    assert (5, "export") in layers and (6, "train") in layers and (4, SHARED) in layers
