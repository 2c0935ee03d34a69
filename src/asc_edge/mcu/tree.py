"""The TFLite Micro source tree named by ``ASC_TFLM_SRC`` (a folder, or the ``tflm-cortex-m-src.tar.gz``
tarball unpacked once into the cache), its content digest, and the cache folder builds are kept in."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

from asc_edge.plumbing.errors import AscEdgeError

TREE_ENV = "ASC_TFLM_SRC"


class McuError(AscEdgeError):
    """The TFLite Micro tree, the cross compiler or QEMU is missing, or a firmware build or run failed."""


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/asc-edge/tflm`` (``~/.cache/...`` by default): builds outlive the checkout."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asc-edge" / "tflm"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_digest(root: Path) -> str:
    """Every file's relative path and bytes: a rebuilt tree with one changed file is another tree."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "build" not in p.relative_to(root).parts[:1]):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _tree_root(folder: Path) -> Path | None:
    """The folder holding the tree's Makefile and tensorflow/ (the tarball wraps it in one folder)."""
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if (candidate / "Makefile").is_file() and (candidate / "tensorflow" / "lite" / "micro").is_dir():
            return candidate
    return None


def tflm_tree() -> tuple[Path, str]:
    """``(root, digest)`` of the tree ``ASC_TFLM_SRC`` names; :class:`McuError` (one line) when it is unset or
    is neither such a folder nor a readable tarball of one."""
    value = os.environ.get(TREE_ENV)
    if not value:
        raise McuError(f"{TREE_ENV} is not set: point it at a TFLite Micro + CMSIS-NN source tree or its "
                       "tflm-cortex-m-src.tar.gz")
    source = Path(value)
    if source.is_dir():
        root = _tree_root(source)
        if root is None:
            raise McuError(f"{TREE_ENV}={value}: not a TFLite Micro source tree (no Makefile and "
                           "tensorflow/lite/micro)")
        return root, _folder_digest(root)
    if not source.is_file():
        raise McuError(f"{TREE_ENV}={value}: no such file or folder")
    digest = _file_digest(source)
    dest = cache_home() / "trees" / digest[:16]
    if not (dest / ".complete").is_file():
        partial = dest.with_name(dest.name + f".partial{os.getpid()}")
        try:
            with tarfile.open(source) as archive:
                archive.extractall(partial, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise McuError(f"{TREE_ENV}={value}: cannot unpack ({exc})") from exc
        if dest.exists():  # another process finished first
            import shutil

            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.rename(dest)
        (dest / ".complete").write_text(digest + "\n")
    root = _tree_root(dest)
    if root is None:
        raise McuError(f"{TREE_ENV}={value}: the tarball holds no TFLite Micro source tree")
    return root, digest
