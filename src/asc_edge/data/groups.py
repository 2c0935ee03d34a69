"""Which recordings belong together: clips cut from one source recording must never straddle a split or a fold.

Real data sets are cut from longer sessions: ESC-10/ESC-50 name clips ``<fold>-<freesound id>-<take>`` (takes
``A``, ``B``, ... of one source), field recorders number takes. Training on one take and evaluating on another
of the same source measures memory of that source, not generalisation, so splits and folds are made of groups.

Rules (``--group-by``):
  * ``auto`` (default): the file name without its extension and without a trailing take marker, ``-A`` ..
    ``-ZZ`` (one or two letters, ESC's takes) or ``-take3`` / ``_take3``; files with none are their own group.
    So ``1-187207-A.ogg`` and ``1-187207-B.ogg`` share the group ``1-187207``, in any label folder.
  * ``file``: every recording is its own group (the clips of one file are always together).
  * any other value is a regular expression searched in the path relative to the data folder; its first
    group (or the whole match) is the group; a path it does not match is its own group.
A ``group`` column in a ``--split`` or ``--folds`` file overrides the rule for the files it names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath

from asc_edge.plumbing.errors import ConfigError, DataError

DEFAULT_GROUP_RULE = "auto"
_TAKE = re.compile(r"(?:-[A-Za-z]{1,2}|[-_]take\d+)$", re.IGNORECASE)


def group_rule(text: str) -> str:
    """``--group-by``'s value checked: ``auto``, ``file`` or a valid regular expression."""
    if text in ("auto", "file"):
        return text
    try:
        re.compile(text)
    except re.error as exc:
        raise ConfigError(f"--group-by {text!r} is neither 'auto', 'file' nor a regular expression ({exc})") from None
    return text


def group_of(name: str, rule: str = DEFAULT_GROUP_RULE) -> str:
    """The group of the recording ``name`` (a path relative to the data folder) under ``rule``."""
    if rule == "file":
        return name
    if rule == "auto":
        stem = PurePosixPath(name).stem
        source = _TAKE.sub("", stem)
        return source if source and source != stem else name
    match = re.search(rule, name)
    if not match:
        return name
    return match.group(1) if match.groups() and match.group(1) else match.group(0)


def groups_of(names: Iterable[str], rule: str = DEFAULT_GROUP_RULE,
              given: dict[str, str] | None = None) -> dict[str, str]:
    """``{recording: group}``; ``given`` (a table's ``group`` column) wins over the rule for the files it names."""
    given = given or {}
    return {name: given.get(name) or group_of(name, rule) for name in names}


def refuse_straddling(assignment: dict[str, str], groups: dict[str, str], source: str, what: str) -> None:
    """A group whose recordings got different values (subsets, folds) is one DataError naming two of them."""
    first: dict[str, tuple[str, str]] = {}
    for name in sorted(assignment):
        group, value = groups.get(name, name), assignment[name]
        if group in first and first[group][1] != value:
            other, other_value = first[group]
            raise DataError(f"{source}: group {group!r} is in two {what}s: {other!r} in {other_value}, {name!r} in "
                            f"{value} (clips of one source recording must stay together; fix the file, give a "
                            "'group' column, or choose another --group-by)")
        first.setdefault(group, (name, value))


def members(groups: dict[str, str]) -> dict[str, list[str]]:
    """``{group: [recordings]}`` in name order."""
    out: dict[str, list[str]] = defaultdict(list)
    for name in sorted(groups):
        out[groups[name]].append(name)
    return dict(out)
