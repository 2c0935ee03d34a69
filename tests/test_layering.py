"""Data flows one way (audio -> data -> train -> export -> recipe; the runtime beside them on audio alone): no
module imports a higher layer, not even lazily inside a function. Read from the source's import statements."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "asc_edge"
SHARED = "shared"  # the top-level modules (errors, atomic_io, cli_util, ...)
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
    return parts[0] if len(parts) > 1 and (PACKAGE / parts[0]).is_dir() else SHARED


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.startswith("asc_edge.")]


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED) - {SHARED}


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _layer(list(path.relative_to(PACKAGE).parts))
        for line, name in _imports(path):
            target = _layer(name.split(".")[1:])
            if target not in (source, SHARED) and target not in ALLOWED[source]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({source}) imports {name} ({target})")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def stage():\n    from asc_edge.export.pipeline import export_checkpoint\n")
    assert _imports(module) == [(2, "asc_edge.export.pipeline")]
