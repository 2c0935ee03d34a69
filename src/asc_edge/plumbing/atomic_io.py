"""The one atomic file writer, shared by every layer's outputs (checkpoints, translator files, training
reports, export artefacts, asc-listen --out), and the check an output path gets before any work is done.

A write goes to a hidden ``.NAME.partial-PID-XXXX`` file in the target's folder (the naming of
:mod:`asc_edge.plumbing.output_paths`, whose cleanup can tell a killed run's leftovers), is flushed to the disk,
then renamed over the target: a crash, a full disk or a killed process leaves either the old file or the complete
new one, never a truncated file under the real name; the next write of that name removes what a killed run left.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from asc_edge.plumbing.errors import AscEdgeError
from asc_edge.plumbing.output_paths import file_mode, partial_prefix, remove_stale_partials


class OutputError(AscEdgeError):
    """An output path that must not or cannot be written (a folder, a symlink, a device, one of the inputs)."""


def _refuse_special(path: Path) -> None:
    """Replacing a symlink would cut the link, replacing a device node (run as root: /dev/full, a disk) would
    swap it for a regular file: refuse both, and folders, rather than guess what was meant."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: cannot inspect the output path ({exc.strerror})") from exc
    if stat.S_ISLNK(mode):
        raise OutputError(f"{path}: the output is a symbolic link; give the real path")
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: the output is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{path}: the output is a device, pipe or socket, not a regular file")


def check_output_path(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Refuse ``path`` before any work when it could not or should not be written: its folder is missing or
    not writable, or it is a folder, a symlink, a device or one of ``inputs``. Returns it as a Path."""
    path = Path(path)
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise OutputError(f"{str(path)!r}: the output needs a file name")
    _refuse_special(path)
    folder = path.absolute().parent
    if not folder.is_dir():
        raise OutputError(f"{path}: its folder {folder} does not exist")
    try:  # the real test (permissions, read-only mounts, quotas): create and remove a temp file there
        fd, probe = tempfile.mkstemp(prefix=partial_prefix(path.name), dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in its folder {folder} ({exc.strerror})") from exc
    if path.exists():
        for item in inputs:
            with contextlib.suppress(OSError):
                if os.path.samefile(path, item):
                    raise OutputError(f"{path}: the output is one of the inputs; it would overwrite it")
    return path


def write_atomic(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(handle)`` on a temp file in ``path``'s folder, flush it to the disk, then rename it over
    ``path``: a crash never leaves a half-written file. Raises :class:`OutputError` for a symlink, folder or device
    target, and whatever ``write`` or the disk raise (the temp file is removed)."""
    path = Path(path)
    _refuse_special(path)
    remove_stale_partials(path.parent, path.name)  # a killed run's temp file: nobody will ever rename it
    fd, tmp = tempfile.mkstemp(prefix=partial_prefix(path.name), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())  # else a power cut after the rename can leave an empty file (SD cards)
        os.chmod(tmp, file_mode())  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    write_atomic(path, lambda handle: handle.write(data))


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
