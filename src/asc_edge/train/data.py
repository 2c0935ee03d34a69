"""Training view of a TAU-layout folder: cached log-mels, labels and devices of the fold1 splits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.labels import SCENES
from asc_edge.data.features import FeatureSet, build_feature_cache
from asc_edge.data.tau import Clip, TauDataset, load_tau
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
    dataset: TauDataset
    features: FeatureSet
    train: Split
    evaluate: Split
    labels: tuple[str, ...] = SCENES

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


def _split(features: FeatureSet, clips: tuple[Clip, ...], labels: tuple[str, ...]) -> Split:
    return Split(rows=features.rows(clips), labels=np.array([labels.index(c.scene) for c in clips], dtype=np.int64),
                 devices=[c.device for c in clips], filenames=[c.filename for c in clips])


def load_training_data(data_dir: str | Path, frontend: FrontendConfig, cache_dir: str | Path | None = None,
                       workers: int | None = None, progress: bool = True) -> TrainingData:
    """Validate the folder, build or reuse its feature cache and index both fold1 splits."""
    dataset = load_tau(data_dir)
    if not dataset.train:
        raise DataError(f"{data_dir}: evaluation_setup/fold1_train.csv lists no clips")
    if not dataset.evaluate:
        raise DataError(f"{data_dir}: evaluation_setup/fold1_evaluate.csv lists no clips")
    features = build_feature_cache(dataset, frontend, cache_root=cache_dir, workers=workers, progress=progress)
    return TrainingData(dataset=dataset, features=features, train=_split(features, dataset.train, SCENES),
                        evaluate=_split(features, dataset.evaluate, SCENES))
