"""The recipe on a folder per label: one split for every stage, kept in ``RUN_DIR/split.csv``.

The first run decides the split (the user's ``--split`` or the seeded one) and writes it to the run folder; a
rerun reads it back, so the translator-less stages, the export's calibration and every rerun see the same
recordings in the same subsets. The data fingerprint covers the clips (names, windows, file sizes), the devices
and the split. The device translator needs parallel recordings (one moment, several devices), which a folder
per label does not have: its stage is left out with a note, and ResNorm still normalises devices.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from asc_edge.data.folder_dataset import FolderDataset, FolderOptions, load_folders
from asc_edge.data.folder_split import split_csv_text
from asc_edge.data.layout import detect_layout
from asc_edge.plumbing.atomic_io import write_text_atomic
from asc_edge.recipe.config import RecipeConfig

SPLIT_FILE = "split.csv"
NO_TRANSLATOR_NOTE = ("stage translator: left out: a folder per label has no parallel recordings (one moment "
                      "recorded by several devices), which device translation learns from; ResNorm still "
                      "normalises devices")


@dataclass(frozen=True)
class FolderRun:
    """A folder-per-label data set as the recipe uses it."""

    dataset: FolderDataset
    split_file: Path
    fingerprint: str

    def options_for_stages(self) -> dict:
        """The TrainSettings ``layout`` of every training stage: the run's split file, as written."""
        return {**self.dataset.options.to_dict(), "split": str(self.split_file), "recorded_split": {}}

    def write_split(self) -> None:
        write_text_atomic(self.split_file, split_csv_text(self.dataset.split))

    def summary_lines(self) -> list[str]:
        return self.dataset.summary_lines()


def folder_run(data: Path, run_dir: Path, sample_rate: int, options: FolderOptions) -> FolderRun | None:
    """None for a TAU folder; else the data set with the run's split (the recorded one on a rerun)."""
    if detect_layout(data) == "tau":
        return None
    split_file = run_dir / SPLIT_FILE
    if split_file.is_file() and not options.split:
        options = replace(options, split=str(split_file))
    dataset = load_folders(data, sample_rate, options)
    digest = hashlib.sha256()
    for clip in dataset.clips:
        size = dataset.path(clip).stat().st_size
        digest.update(f"{clip.filename}\0{size}\0{clip.device}\0{dataset.split[clip.recording]}\n".encode())
    return FolderRun(dataset=dataset, split_file=split_file, fingerprint=digest.hexdigest())


def without_translator(config: RecipeConfig) -> RecipeConfig:
    """The config with its translator stage turned off (a folder per label cannot fit one)."""
    values = {section: dict(fields) for section, fields in config.values.items()}
    values["translator"]["kind"] = "none"
    return replace(config, values=values)
