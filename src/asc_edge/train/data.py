"""Training view of a data folder (TAU layout or a folder per label): cached log-mels, labels and devices of the
train and evaluate splits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asc_edge.audio.config import FrontendConfig
from asc_edge.data.features import FeatureSet, build_feature_cache
from asc_edge.data.folder_dataset import FolderOptions
from asc_edge.data.layout import Dataset, load_dataset
from asc_edge.plumbing.errors import DataError


@dataclass
class Split:
    """One fold1 split: rows of the feature cache, label indices, devices, file names."""

    rows: np.ndarray
    labels: np.ndarray
    devices: list[str]
    filenames: list[str]

    def __len__(self) -> int:
        return int(self.rows.size)


@dataclass
class TrainingData:
    dataset: Dataset
    features: FeatureSet
    train: Split
    evaluate: Split

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.dataset.labels)

    @property
    def seen_devices(self) -> tuple[str, ...]:
        return tuple(self.dataset.seen_devices)

    @property
    def unseen_devices(self) -> tuple[str, ...]:
        return tuple(self.dataset.unseen_devices)

    @property
    def frontend(self) -> FrontendConfig:
        return self.features.config

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(n_mels, n_frames)`` of one clip."""
        return tuple(int(v) for v in self.features.features.shape[1:])

    def batch(self, rows: np.ndarray) -> torch.Tensor:
        """Features of cache ``rows`` as a ``(batch, 1, n_mels, n_frames)`` float tensor."""
        order = np.argsort(rows)  # sorted reads are much faster on a memory map
        block = np.asarray(self.features.features[rows[order]])
        out = np.empty_like(block)
        out[order] = block
        return torch.from_numpy(out).unsqueeze(1)


def _split(features: FeatureSet, clips: tuple, labels: tuple[str, ...]) -> Split:
    return Split(rows=features.rows(clips), labels=np.array([labels.index(c.scene) for c in clips], dtype=np.int64),
                 devices=[c.device for c in clips], filenames=[c.filename for c in clips])


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def load_training_data(data_dir: str | Path, frontend: FrontendConfig, cache_dir: str | Path | None = None,
                       workers: int | None = None, progress: bool = True, layout: FolderOptions | None = None,
                       log: Callable[[str], None] = _to_stderr) -> TrainingData:
    """Validate the folder (its layout said in one line, with the counts per label of a folder per label), build
    or reuse its feature cache and index both splits."""
    dataset = load_dataset(data_dir, frontend.sample_rate, layout)
    for line in dataset.summary_lines():
        if progress or line.lower().startswith("warning"):  # --quiet keeps stderr to warnings and errors
            log(line)
    tau = dataset.layout == "tau"
    for name, clips in (("train", dataset.train), ("evaluate", dataset.evaluate)):
        if not clips:
            where = f"evaluation_setup/fold1_{name}.csv" if tau else f"the {name} split"
            raise DataError(f"{data_dir}: {where} lists no clips")
    features = build_feature_cache(dataset, frontend, cache_root=cache_dir, workers=workers, progress=progress)
    labels = tuple(dataset.labels)
    return TrainingData(dataset=dataset, features=features, train=_split(features, dataset.train, labels),
                        evaluate=_split(features, dataset.evaluate, labels))
