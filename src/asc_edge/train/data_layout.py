"""What a training run does with its data folder's layout: the folder-per-label options it uses (a run that
starts from or resumes a checkpoint keeps that checkpoint's split, so no fine-tuning stage evaluates on clips
an earlier stage trained on), the split it writes beside its report, and each epoch's order of clips."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asc_edge.data.folder_dataset import FolderOptions
from asc_edge.data.folder_split import split_csv_text
from asc_edge.plumbing.atomic_io import write_text_atomic
from asc_edge.train.data import Split, TrainingData

SPLIT_FILE = "split.csv"


def recorded_layout(checkpoint: dict | None) -> dict:
    """The folder-per-label options a checkpoint was trained with, its split included ({} for a TAU folder)."""
    data = (checkpoint or {}).get("data") or {}
    return dict(data.get("options") or {}) if data.get("layout") == "folders" else {}


def folder_layout(given: dict, earlier: dict | None) -> FolderOptions:
    """The run's options; without a --split of its own, a run from a checkpoint reuses that checkpoint's split."""
    options = FolderOptions.from_dict(given)
    recorded = recorded_layout(earlier).get("recorded_split")
    if recorded and not options.split:
        options = FolderOptions.from_dict({**options.to_dict(), "recorded_split": recorded})
    return options


def log_on_main(is_main: bool) -> Callable[[str], None]:
    """The data statement from one rank only."""
    return (lambda line: print(line, file=sys.stderr, flush=True)) if is_main else (lambda _line: None)


def write_split(data: TrainingData, folder: Path) -> Path | None:
    """A folder per label: the split used, as ``FOLDER/split.csv`` (what ``--split`` reads); None for TAU."""
    split = getattr(data.dataset, "split", None)
    if split is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPLIT_FILE
    write_text_atomic(path, split_csv_text(split))
    return path


def epoch_order(split: Split, seed: int, epoch: int, balanced: bool) -> np.ndarray:
    """The training positions of one epoch: a seeded permutation, or (``balanced``) as many draws with
    replacement, each label equally likely, so a label with few clips is seen as often as a large one."""
    rng = np.random.default_rng([seed, epoch])
    if not balanced:
        return rng.permutation(len(split))
    counts = np.bincount(split.labels)
    weights = 1.0 / counts[split.labels]
    return rng.choice(len(split), size=len(split), replace=True, p=weights / weights.sum())
