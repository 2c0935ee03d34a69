"""On-disk log-mel feature cache: computed once per frontend config, memory-mapped for training.

Layout: ``CACHE_ROOT/features-<config digest>/{features.npy, manifest.json}``; CACHE_ROOT is ``--cache-dir`` or,
by default, a folder per data folder under the user's cache home (``$ASC_EDGE_CACHE``, ``$XDG_CACHE_HOME/asc-edge``
or ``~/.cache/asc-edge``): never inside the data folder, which may be read-only, shared, or a folder per label
that is copied or zipped with the cache in it. A cache is built in a
temporary folder and renamed into place only when every clip is written, so a half-written cache is never
found under the final name; the manifest (config, clip list, shape) is checked before any reuse. A builder
holds an flock on the cache root folder: a second job waits and reuses the first one's cache, and the
builder removes the temporary folders of killed runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.io import read_audio
from asc_edge.audio.windows import fit_to_window
from asc_edge.data.folder_dataset import FolderDataset
from asc_edge.data.progress import Progress
from asc_edge.data.tau import Clip, TauDataset
from asc_edge.data.workers import die_with_parent
from asc_edge.plumbing.cache_home import user_cache_home
from asc_edge.plumbing.errors import AscEdgeError, DataError
from asc_edge.plumbing.output_paths import dir_mode, file_mode, partial_prefix, remove_stale_partials

CACHE_FORMAT = 1
Dataset = Union[TauDataset, FolderDataset]  # a TAU folder or a folder per label (data/layout.py)


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


def default_cache_root(data_root: str | Path) -> Path:
    """The feature caches of one data folder when no ``--cache-dir`` is given: under the user's cache home, named
    by the folder's name (for a person reading the cache) and the digest of its absolute path (two folders of
    one name do not share a cache)."""
    absolute = os.path.abspath(data_root)
    digest = hashlib.sha256(os.fsencode(absolute)).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(absolute)) or "data"
    return user_cache_home() / "features" / f"{name}-{digest}"


def cache_dir_for(dataset: Dataset, config: FrontendConfig, cache_root: str | Path | None = None) -> Path:
    root = Path(cache_root) if cache_root is not None else default_cache_root(dataset.root)
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


# One job per audio file: (path, window starts or None for the whole file, window length, frontend config).
Job = tuple[str, Optional[tuple[int, ...]], int, FrontendConfig]


def _extract(job: Job) -> np.ndarray:
    """Log-mels of one file, ``(clips, n_mels, n_frames)``: the whole file (a TAU clip), or each window of a
    recording (the folder layout), decoded once; a window past the end is looped as the runtime loops it."""
    path, starts, length, config = job
    samples = read_audio(path, target_rate=config.sample_rate).samples
    frontend = LogMelFrontend(config)
    if starts is None:
        return frontend(samples)[None]
    return np.stack([frontend(fit_to_window(samples[start:start + length], length)) for start in starts])


def _jobs(dataset: Dataset, clips: list, config: FrontendConfig) -> list[Job]:
    """Consecutive windows of one recording share a job, so each file is decoded once."""
    jobs: list[Job] = []
    for clip in clips:
        path = str(dataset.path(clip))
        start = getattr(clip, "start", None)
        if start is None:
            jobs.append((path, None, 0, config))
        elif jobs and jobs[-1][0] == path and jobs[-1][1] is not None:
            jobs[-1] = (path, (*jobs[-1][1], start), clip.length, config)
        else:
            jobs.append((path, (start,), clip.length, config))
    return jobs


@contextlib.contextmanager
def _build_lock(folder: Path, progress: bool):
    """Hold an exclusive ``flock`` on the cache root folder while building: a second job on the same data set
    waits, then reuses what the first one wrote. Locking the folder itself leaves no lock file behind; the
    kernel releases the lock when its holder dies, even by SIGKILL. (Builds of other frontend configs in the
    same root wait too: on the 2-core machines this targets they would only compete for the cores.)"""
    try:
        fd = os.open(folder.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise DataError(f"{folder.parent}: cannot open the feature cache folder ({exc.strerror})") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if progress:
                print(f"features: waiting for another process building {folder}", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def build_feature_cache(dataset: Dataset, config: FrontendConfig, cache_root: str | Path | None = None,
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
    except OSError as exc:
        raise DataError(f"{folder.parent}: cannot create the feature cache here ({exc.strerror}); "
                        f"pass a writable cache folder") from exc
    with _build_lock(folder, progress):
        cached = _load_cached(folder, filenames, config)  # built by the job we waited for
        if cached is not None:
            cached.reused = True
            return cached
        # Under the lock no other builder runs, so every partial folder is a killed run's leftover.
        remove_stale_partials(folder.parent, folder.name, any_owner=True)
        _build_into(folder, clips, filenames, dataset, config, workers, progress)
    loaded = _load_cached(folder, filenames, config)
    if loaded is None:
        raise DataError(f"{folder}: the feature cache just written cannot be read back")
    return loaded


def _build_into(folder: Path, clips: list[Clip], filenames: list[str], dataset: Dataset,
                config: FrontendConfig, workers: int | None, progress: bool) -> None:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=partial_prefix(folder.name), dir=folder.parent))
        os.chmod(tmp, dir_mode())  # mkdtemp makes 0700; a shared cache follows the umask
    except OSError as exc:
        raise DataError(f"{folder.parent}: cannot create the feature cache here ({exc.strerror}); "
                        f"pass a writable cache folder") from exc
    try:
        features = _compute_into(tmp, _jobs(dataset, clips, config), len(clips), config, workers, progress)
        shape = list(features.shape)
        features.flush()
        del features
        manifest = {"format": CACHE_FORMAT, "complete": True, "config": config.to_dict(),
                    "filenames": filenames, "shape": shape}
        (tmp / "manifest.json").write_text(json.dumps(manifest))
        for entry in tmp.iterdir():  # even under umask 0, nothing of a shared cache is world-writable
            os.chmod(entry, file_mode())
        if folder.exists():  # stale or foreign cache under our name: replace it
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _split_clips(dataset: Dataset) -> list[Clip]:
    in_splits = {c.filename for c in dataset.train} | {c.filename for c in dataset.evaluate}
    return [c for c in dataset.clips if c.filename in in_splits]


def _compute_into(tmp: Path, jobs: list[Job], n_clips: int, config: FrontendConfig, workers: int | None,
                  progress: bool) -> np.ndarray:
    first = _extract(jobs[0])
    out = np.lib.format.open_memmap(tmp / "features.npy", mode="w+", dtype=np.float32,
                                    shape=(n_clips,) + first.shape[1:])
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    with Progress(n_clips, f"features ({config.name})", enabled=progress) as bar:
        out[:len(first)] = first
        bar.advance(len(first))
        rest = jobs[1:]
        if workers > 1 and len(rest) > 8:
            with ProcessPoolExecutor(max_workers=workers, **die_with_parent()) as pool:
                _store(out, pool.map(_extract, rest, chunksize=8), rest, len(first), bar)
        else:
            _store(out, map(_extract, rest), rest, len(first), bar)
    return out


def _store(out: np.ndarray, results, jobs: list[Job], row: int, bar: Progress) -> None:
    for job, feats in zip(jobs, results):
        if feats.shape[1:] != out.shape[1:]:
            raise DataError(f"{job[0]}: gives {feats.shape[2]} frames, but the clips before it give "
                            f"{out.shape[2]}; all clips of a dataset must have the same duration")
        out[row:row + len(feats)] = feats
        row += len(feats)
        bar.advance(len(feats))
