"""On-disk log-mel feature cache: computed once per frontend config, memory-mapped for training.

Layout: ``CACHE_ROOT/features-<config digest>/{features.npy, manifest.json}``. A cache is built in a
temporary folder and renamed into place only when every clip is written, so a half-written cache is never
found under the final name; the manifest (config, clip list, shape) is checked before any reuse.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.io import read_audio
from asc_edge.data.progress import Progress
from asc_edge.data.tau import Clip, TauDataset
from asc_edge.errors import AscEdgeError, DataError

CACHE_FORMAT = 1
DEFAULT_CACHE_DIRNAME = ".asc-cache"


@dataclass
class FeatureSet:
    """Log-mel features of every clip of a dataset, ``features[i]`` of shape ``(n_mels, n_frames)``."""

    features: np.ndarray
    filenames: list[str]
    config: FrontendConfig
    path: Path
    reused: bool = False  # True when an existing complete cache was loaded rather than computed

    def __post_init__(self) -> None:
        self._row = {name: i for i, name in enumerate(self.filenames)}

    def rows(self, clips: tuple[Clip, ...] | list[Clip]) -> np.ndarray:
        """Row indices of ``clips`` in :attr:`features`."""
        return np.array([self._row[c.filename] for c in clips], dtype=np.int64)


def cache_dir_for(dataset: TauDataset, config: FrontendConfig, cache_root: str | Path | None = None) -> Path:
    root = Path(cache_root) if cache_root is not None else dataset.root / DEFAULT_CACHE_DIRNAME
    return root / f"features-{config.digest()}"


def _load_cached(folder: Path, filenames: list[str], config: FrontendConfig) -> FeatureSet | None:
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        matches = (manifest.get("format") == CACHE_FORMAT and manifest.get("complete") is True
                   and manifest.get("filenames") == filenames
                   and FrontendConfig.from_dict(manifest["config"]).digest() == config.digest())
        if not matches:
            return None
        features = np.load(folder / "features.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError, AscEdgeError):
        return None
    if list(features.shape) != manifest.get("shape"):
        return None
    return FeatureSet(features=features, filenames=filenames, config=config, path=folder)


def _extract(args: tuple[str, FrontendConfig]) -> np.ndarray:
    path, config = args
    clip = read_audio(path, target_rate=config.sample_rate)
    return LogMelFrontend(config)(clip.samples)


def build_feature_cache(dataset: TauDataset, config: FrontendConfig, cache_root: str | Path | None = None,
                        workers: int | None = None, progress: bool = True) -> FeatureSet:
    """Features of every clip of the fold1 train and evaluate splits (meta.csv order), cached.

    Clips listed in meta.csv but in neither split (the real TAU set has some) are skipped.
    """
    clips = _split_clips(dataset)
    filenames = [c.filename for c in clips]
    folder = cache_dir_for(dataset, config, cache_root)
    cached = _load_cached(folder, filenames, config)
    if cached is not None:
        cached.reused = True
        return cached
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    except OSError as exc:
        raise DataError(f"{folder.parent}: cannot create the feature cache here ({exc.strerror}); "
                        f"pass a writable cache folder") from exc
    try:
        features = _compute_into(tmp, [str(dataset.path(c)) for c in clips], config, workers, progress)
        shape = list(features.shape)
        features.flush()
        del features
        manifest = {"format": CACHE_FORMAT, "complete": True, "config": config.to_dict(),
                    "filenames": filenames, "shape": shape}
        (tmp / "manifest.json").write_text(json.dumps(manifest))
        if folder.exists():  # stale or foreign cache under our name: replace it
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    loaded = _load_cached(folder, filenames, config)
    if loaded is None:
        raise DataError(f"{folder}: the feature cache just written cannot be read back")
    return loaded


def _split_clips(dataset: TauDataset) -> list[Clip]:
    in_splits = {c.filename for c in dataset.train} | {c.filename for c in dataset.evaluate}
    return [c for c in dataset.clips if c.filename in in_splits]


def _compute_into(tmp: Path, paths: list[str], config: FrontendConfig, workers: int | None,
                  progress: bool) -> np.ndarray:
    first = _extract((paths[0], config))
    out = np.lib.format.open_memmap(tmp / "features.npy", mode="w+", dtype=np.float32,
                                    shape=(len(paths),) + first.shape)
    workers = workers or min(len(paths), os.cpu_count() or 1)
    with Progress(len(paths), f"features ({config.name})", enabled=progress) as bar:
        out[0] = first
        bar.advance()
        jobs = [(p, config) for p in paths[1:]]
        if workers > 1 and len(jobs) > 8:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = pool.map(_extract, jobs, chunksize=8)
                _store(out, results, paths, bar)
        else:
            _store(out, map(_extract, jobs), paths, bar)
    return out


def _store(out: np.ndarray, results, paths: list[str], bar: Progress) -> None:
    for i, feats in enumerate(results, start=1):
        if feats.shape != out.shape[1:]:
            raise DataError(f"{paths[i]}: gives {feats.shape[1]} frames, but the clips before it give "
                            f"{out.shape[2]}; all clips of a dataset must have the same duration")
        out[i] = feats
        bar.advance()
