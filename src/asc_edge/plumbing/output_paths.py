"""Where the tools write: permissions that follow the umask, early writability checks, stale partial files.

Every tool writes through a temporary name and renames on success. The temporary name carries the writer's
process id (``.<name>.partial-<pid>-<random>``), so a later run can tell a file left by a killed run (its
process is gone) from one a live run is still writing, and clean only the former.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path

from asc_edge.plumbing.errors import AscEdgeError

_PARTIAL = re.compile(r"\.partial-(\d+)-")


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (``/proc/self/status``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Mode of a new file, as ``open()`` would give it; never world-writable, whatever the umask."""
    return 0o666 & ~(current_umask() | 0o002)


def dir_mode() -> int:
    """Mode of a new folder, as ``mkdir`` would give it; never world-writable, whatever the umask."""
    return 0o777 & ~(current_umask() | 0o002)


def partial_prefix(name: str) -> str:
    """Prefix of this process's temporary names for ``name`` (``tempfile.mkstemp``/``mkdtemp`` ``prefix``)."""
    return f".{name}.partial-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_partials(folder: Path, name: str, any_owner: bool = False) -> list[str]:
    """Delete ``folder/.<name>.partial-*`` left by processes that no longer run; returns the names removed.

    ``any_owner``: the caller holds the lock that every writer of ``name`` takes, so every partial is stale,
    including ones whose name carries no process id (written before process ids were recorded).
    """
    removed = []
    try:
        entries = list(folder.glob(f".{glob.escape(name)}.partial-*"))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.search(entry.name[len(name) + 1:])
        if not any_owner and (match is None or _alive(int(match.group(1)))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
        except OSError:
            continue  # not ours to remove (another user's folder): harmless, it is never read
    return removed


def require_writable(path: str | Path, what: str, is_dir: bool, error: type[AscEdgeError]) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written.

    ``is_dir``: ``path`` is a folder the tool creates or fills; otherwise a file it creates or replaces.
    The nearest existing ancestor must be a writable folder (the tool creates the missing ones).
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if is_dir and not path.is_dir():
            raise error(f"{path}: {what} must be a folder, but this is a file")
        if not is_dir and path.is_dir():
            raise error(f"{path}: {what} must be a file, but this is a folder")
        target = path if is_dir else path.parent
    else:
        target = path.parent
    probe = target.absolute()
    while not probe.exists():
        if probe.is_symlink():
            raise error(f"{path}: cannot write the {what} here ({probe} is a broken link)")
        probe = probe.parent
    if not probe.is_dir():
        raise error(f"{path}: cannot write the {what} here ({probe} is a file, not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise error(f"{path}: cannot write the {what} here ({probe} is not writable)")


def no_world_write(tree: Path) -> None:
    """Clear the others-write bit under ``tree`` when the umask let it through (umask 0): shared outputs
    follow the umask in everything else, but none is ever writable by every user."""
    if current_umask() & 0o002:
        return
    for entry in (tree, *tree.rglob("*")):
        if not entry.is_symlink():
            os.chmod(entry, entry.stat().st_mode & 0o7775)
