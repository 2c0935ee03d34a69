"""Cross-validation folds of a folder per label: read from a ``file,fold`` table or made stratified by label and
grouped by source (data/groups.py), so that no group is in two folds. Fold ``i``'s split evaluates fold ``i``
and trains on the others."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from asc_edge.data.csv_table import read_rows
from asc_edge.data.folders import Recording
from asc_edge.data.groups import DEFAULT_GROUP_RULE, groups_of, members, refuse_straddling
from asc_edge.plumbing.errors import DataError

COLUMNS = ("file", "fold")
GROUP_COLUMN = "group"


def read_fold_csv(path: str | Path, recordings: Iterable[Recording],
                  group_rule: str = DEFAULT_GROUP_RULE) -> tuple[dict[str, int], dict[str, str]]:
    """``({recording: fold}, {recording: group})`` from a ``file,fold[,group]`` table. Refused with one line: a
    file that is not a recording of the folder, a file listed twice, a fold that is not a positive whole number,
    a fold number missing between 1 and the largest, fewer than 2 folds, a group in two folds."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such fold file (--folds)")
    known = {r.name for r in recordings}
    folds: dict[str, int] = {}
    given_groups: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, row in read_rows(path, COLUMNS, optional=(GROUP_COLUMN,)):
        where, name = f"{path} line {line}", row["file"]
        if not row["fold"].isdigit() or int(row["fold"]) < 1:
            raise DataError(f"{where}: fold {row['fold']!r} is not a whole number from 1")
        if name not in known:
            raise DataError(f"{where}: {name!r} is not a recording of the data folder (missing, too short or not "
                            "audio; paths are relative to the data folder)")
        if name in folds:
            raise DataError(f"{where}: {name!r} is listed again, first on line {first_line[name]}")
        folds[name], first_line[name] = int(row["fold"]), line
        if row.get(GROUP_COLUMN):
            given_groups[name] = row[GROUP_COLUMN]
    numbers = sorted(set(folds.values()))
    if len(numbers) < 2:
        raise DataError(f"{path}: {len(numbers)} fold; cross-validation needs at least 2")
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        raise DataError(f"{path}: fold {missing[0]} has no recording (folds {', '.join(map(str, numbers))}): "
                        "number the folds 1..K")
    groups = groups_of(folds, group_rule, given_groups)
    refuse_straddling({n: f"fold {f}" for n, f in folds.items()}, groups, str(path), "fold")
    return folds, groups


def stratified_group_folds(recordings: Iterable[Recording], k: int, seed: int = 0,
                           group_rule: str = DEFAULT_GROUP_RULE) -> tuple[dict[str, int], dict[str, str]]:
    """``({recording: fold 1..k}, {recording: group})``: whole groups, each label spread evenly over the folds.

    Greedy: groups in a seeded order, largest first, each into the fold where its labels are scarcest so far
    (relative to the label's total), ties to the fold with fewest recordings."""
    recordings = list(recordings)
    if k < 2:
        raise DataError(f"--folds {k}: cross-validation needs at least 2 folds")
    label_of = {r.name: r.label for r in recordings}
    groups = groups_of(label_of, group_rule)
    grouped = members(groups)
    per_label = Counter(label_of.values())
    short = sorted(label for label in per_label
                   if len({groups[n] for n in label_of if label_of[n] == label}) < k)
    if short:
        count = len({groups[n] for n in label_of if label_of[n] == short[0]})
        raise DataError(f"--folds {k}: label {short[0]!r} has {count} source group(s) (--group-by {group_rule}), "
                        f"fewer than the folds: every fold must evaluate every label; use fewer folds, add "
                        "recordings, or --group-by file")
    rng = np.random.default_rng(seed)
    names = sorted(grouped)
    order = sorted(rng.permutation(len(names)).tolist(), key=lambda i: -len(grouped[names[i]]))
    in_fold = [Counter() for _ in range(k)]
    sizes = [0] * k
    folds: dict[str, int] = {}
    for i in order:
        group = grouped[names[i]]
        labels = Counter(label_of[n] for n in group)

        def load(f: int, labels: Counter = labels) -> tuple[float, int]:
            return (sum(in_fold[f][lab] / per_label[lab] for lab in labels), sizes[f])

        best = min(range(k), key=load)
        in_fold[best].update(labels)
        sizes[best] += len(group)
        folds.update({n: best + 1 for n in group})
    return folds, groups


def fold_split(folds: dict[str, int], fold: int) -> dict[str, str]:
    """The train/evaluate split of fold ``fold``: it evaluates, the others train."""
    return {name: "evaluate" if f == fold else "train" for name, f in folds.items()}


def fold_csv_text(folds: dict[str, int], groups: dict[str, str]) -> str:
    """The folds as the CSV ``--folds`` reads (with their groups), by fold then name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COLUMNS, GROUP_COLUMN))
    writer.writerows((n, folds[n], groups[n]) for n in sorted(folds, key=lambda n: (folds[n], n)))
    return out.getvalue()


def fold_counts(folds: dict[str, int], labels: dict[str, str]) -> dict[int, Counter]:
    """``{fold: Counter(label)}``: what each fold evaluates."""
    out: dict[int, Counter] = defaultdict(Counter)
    for name, fold in folds.items():
        out[fold][labels[name]] += 1
    return dict(sorted(out.items()))
