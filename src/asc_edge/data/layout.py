"""Which layout a data folder has, and loading either: a TAU folder has ``meta.csv``; any other folder is read as
a folder per label (data/folders.py). Also the flags of the folder layout, shared by every command that takes
a data folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Union

from asc_edge.data.folder_dataset import (
    DEFAULT_MIN_RECORDINGS,
    DEFAULT_WINDOW_S,
    FolderDataset,
    FolderOptions,
    load_folders,
)
from asc_edge.data.folder_split import DEFAULT_EVALUATE_SHARE
from asc_edge.data.folders import BACKGROUND_FOLDER
from asc_edge.data.groups import DEFAULT_GROUP_RULE, group_rule
from asc_edge.data.tau import TauDataset, load_tau
from asc_edge.plumbing.cli_util import bounded, non_negative_int, positive_int
from asc_edge.plumbing.errors import DataError

TAU_MARKER = "meta.csv"
Dataset = Union[TauDataset, FolderDataset]


def detect_layout(root: str | Path) -> str:
    """``tau`` (the folder has meta.csv) or ``folders``; a missing path or a file is one DataError."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected a TAU-layout folder or a folder per label)")
    return "tau" if (root / TAU_MARKER).exists() else FolderDataset.layout


def load_dataset(root: str | Path, sample_rate: int, options: FolderOptions | None = None) -> Dataset:
    """The data set of ``root`` in its layout; ``sample_rate`` (the frontend's) sets a folder layout's windows."""
    if detect_layout(root) == "tau":
        return load_tau(root)
    return load_folders(Path(root), sample_rate, options or FolderOptions())


def add_folder_layout_flags(parser: argparse.ArgumentParser) -> None:
    """The options of a folder per label (a TAU folder ignores them): windows, split, background, warnings."""
    group = parser.add_argument_group(
        "a folder per label (DATA/<label>/**/*.wav|flac|ogg; a TAU folder, which has meta.csv, ignores these)",
        "Non-audio files are skipped with a count, and so are recordings under 1 s (the runtime's minimum). "
        "Refused with exit 2: a label folder with no audio, a single label, an unreadable file, a label name "
        "the model card refuses, the same audio twice (link or copy), a bad --split file. Optional "
        "DATA/devices.csv (file,device) names devices for the per-device report, or --device-folders.")
    group.add_argument("--window", type=bounded(float, above=0.0), default=DEFAULT_WINDOW_S, metavar="SECONDS",
                       help=f"clip length: recordings are cut into clips of this length (default {DEFAULT_WINDOW_S:g}; "
                            "shorter recordings are looped, as asc-listen does)")
    group.add_argument("--hop", type=bounded(float, above=0.0), default=None, metavar="SECONDS",
                       help="start of one clip to the next within a recording (default: the window)")
    group.add_argument("--split", default=None, metavar="FILE.csv",
                       help="train/evaluate per recording (file,subset), e.g. a run's split.csv; default: "
                            "seeded, stratified per label, by recording")
    group.add_argument("--group-by", type=group_rule, default=DEFAULT_GROUP_RULE, metavar="RULE",
                       help="which recordings stay on one side of every split and fold: 'auto' (default: the file "
                            "name less a trailing take marker, '-A'..'-ZZ' or '-take3', so ESC's "
                            "<fold>-<source>-<take> clips of one source stay together), 'file' (each recording "
                            "alone) or a regular expression whose first group names the group; a 'group' column "
                            "in a --split/--folds file overrides it")
    group.add_argument("--split-seed", type=non_negative_int, default=0, help="seed of the default split (0)")
    group.add_argument("--evaluate-share", type=bounded(float, minimum=0.01, maximum=0.9),
                       default=DEFAULT_EVALUATE_SHARE, metavar="SHARE",
                       help=f"share of each label's recordings that evaluate ({DEFAULT_EVALUATE_SHARE:g})")
    group.add_argument("--background-label", default=BACKGROUND_FOLDER, metavar="NAME",
                       help=f"the folder of audio that is none of the labels, trained and printed as 'background' "
                            f"(default {BACKGROUND_FOLDER})")
    group.add_argument("--device-folders", action="store_true",
                       help="the folder below each label names the recording device (DATA/<label>/<device>/...), "
                            "for the per-device report; instead of DATA/devices.csv")
    group.add_argument("--min-recordings", type=positive_int, default=DEFAULT_MIN_RECORDINGS, metavar="N",
                       help=f"warn about a label with fewer recordings (default {DEFAULT_MIN_RECORDINGS})")


def folder_options(args: argparse.Namespace) -> FolderOptions:
    return FolderOptions(window_s=args.window, hop_s=args.hop, split=args.split, split_seed=args.split_seed,
                         evaluate_share=args.evaluate_share, background=args.background_label,
                         min_recordings=args.min_recordings, device_folders=args.device_folders,
                         group_by=args.group_by)
