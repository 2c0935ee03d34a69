"""The train/evaluate split of a folder-per-label tree, decided per group of recordings so that nothing leaks.

Every clip of one file lands in the same split (windows of one recording are near copies of each other), and so
does every recording of one group (takes cut from one source recording, data/groups.py). The split is
stratified per label and seeded: for each label, its groups in name order shuffled by the seed, groups evaluate
until a share of its recordings (at least one group, never all) does. It is written as a CSV (``file,subset``
with subset ``train`` or ``evaluate``, optionally ``group``) that the user may also give (``--split FILE.csv``);
a recording the file does not name is left out; a group on both sides is refused.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from asc_edge.data.csv_table import read_rows
from asc_edge.data.folders import Recording
from asc_edge.data.groups import DEFAULT_GROUP_RULE, groups_of, members, refuse_straddling
from asc_edge.plumbing.errors import DataError

SUBSETS = ("train", "evaluate")
COLUMNS = ("file", "subset")
GROUP_COLUMN = "group"
DEFAULT_EVALUATE_SHARE = 0.3  # about TAU's fold1 share (30 % of the development set evaluates)


def seeded_split(recordings: Iterable[Recording], evaluate_share: float, seed: int,
                 group_rule: str = DEFAULT_GROUP_RULE) -> dict[str, str]:
    """``{recording: subset}``: per label, whole groups evaluate until ``round(share x recordings)`` (at least 1)
    do, never all of them. A group whose recordings carry several labels is decided by the first label."""
    recordings = list(recordings)
    groups = groups_of([r.name for r in recordings], group_rule)
    by_label: dict[str, list[str]] = defaultdict(list)
    for recording in recordings:
        by_label[recording.label].append(recording.name)
    grouped = members(groups)
    split: dict[str, str] = {}
    for label in sorted(by_label):
        names = sorted(by_label[label])
        label_groups = sorted({groups[n] for n in names})
        if len(label_groups) < 2:
            why = (f"{len(names)} recording" if len(names) < 2 else
                   f"{len(names)} recordings, all of one source group ({label_groups[0]!r}, --group-by "
                   f"{group_rule})")
            raise DataError(f"label {label!r} has {why}; a split without leakage needs at least 2 per label (one "
                            "to evaluate): add a recording, cut a long one into files, or give --split FILE.csv"
                            + (" or --group-by file" if len(names) >= 2 else ""))
        # Each label its own stream: adding files to one label does not reshuffle the others.
        order = np.random.default_rng([seed, zlib.crc32(label.encode())]).permutation(len(label_groups))
        target = min(len(names) - 1, max(1, round(evaluate_share * len(names))))
        chosen, count = set(), 0
        for i in order:
            undecided = [n for n in grouped[label_groups[i]] if n not in split]
            if count >= target or len(chosen) == len(label_groups) - 1:
                break
            chosen.add(label_groups[i])
            count += sum(1 for n in undecided if n in by_label[label])
        for group in label_groups:
            for name in grouped[group]:
                split.setdefault(name, "evaluate" if group in chosen else "train")
    return split


def read_split_csv(path: str | Path, recordings: Iterable[Recording],
                   group_rule: str = DEFAULT_GROUP_RULE) -> dict[str, str]:
    """A user's split: every named file must be a recording of the folder, in one subset only, and no group
    (the ``group`` column where given, else ``group_rule``) on both sides."""
    path = Path(path)
    known = {r.name for r in recordings}
    split: dict[str, str] = {}
    given_groups: dict[str, str] = {}
    first_line: dict[str, int] = {}
    if not path.is_file():
        raise DataError(f"{path}: no such split file (--split)")
    for line, row in read_rows(path, COLUMNS, optional=(GROUP_COLUMN,)):
        if row.get(GROUP_COLUMN):
            given_groups[row["file"]] = row[GROUP_COLUMN]
        where = f"{path} line {line}"
        name, subset = row["file"], row["subset"]
        if subset not in SUBSETS:
            raise DataError(f"{where}: subset {subset!r} is neither 'train' nor 'evaluate'")
        if name not in known:
            raise DataError(f"{where}: {name!r} is not a recording of the data folder (missing, too short "
                            "or not audio; paths are relative to the data folder)")
        if name in split:
            both = " (in both splits)" if split[name] != subset else ""
            raise DataError(f"{where}: {name!r} is listed again{both}, first on line {first_line[name]}")
        split[name], first_line[name] = subset, line
    refuse_straddling(split, groups_of(split, group_rule, given_groups), str(path), "subset")
    return split


def check_split(split: dict[str, str], recordings: Iterable[Recording], source: str) -> None:
    """Every label must train on something, and the split must evaluate something."""
    trained = {r.label for r in recordings if split.get(r.name) == "train"}
    labels = sorted({r.label for r in recordings})
    untrained = [label for label in labels if label not in trained]
    if untrained:
        raise DataError(f"{source}: label {untrained[0]!r} has no recording in the train subset")
    if "evaluate" not in split.values():
        raise DataError(f"{source}: no recording is in the evaluate subset")


def split_csv_text(split: dict[str, str]) -> str:
    """The split as the CSV ``--split`` reads (train first, then evaluate, each in name order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for subset in SUBSETS:
        writer.writerows((name, subset) for name in sorted(split) if split[name] == subset)
    return out.getvalue()
