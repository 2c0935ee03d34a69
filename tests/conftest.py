"""Shared fixtures: a tiny asc-synth dataset (generated once per session) and a WAV writer; the session's own
cache home, so that feature caches and probed-model marks (by default under ~/.cache/asc-edge) neither pile up in
the user's home nor carry over from an earlier run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.data.synth.generate import generate_dataset

TINY = {"clips_per_class": 8, "duration": 1.5, "sample_rate": 16000, "seed": 3}
_CACHE_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # os.environ, not monkeypatch: the commands the tests start in subprocesses must see it too
    if "ASC_EDGE_CACHE" not in os.environ:
        _CACHE_HOME.append(tempfile.mkdtemp(prefix="asc-edge-test-cache-"))
        os.environ["ASC_EDGE_CACHE"] = _CACHE_HOME[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _CACHE_HOME:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CI-size asc-synth dataset; tests must not modify it (copy it first)."""
    root = tmp_path_factory.mktemp("synth") / "tiny"
    generate_dataset(root, progress=False, workers=1, **TINY)
    return root


@pytest.fixture
def write_wav(tmp_path: Path):
    def write(name: str, samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
        path = tmp_path / name
        soundfile.write(str(path), samples, rate, subtype=subtype)
        return path

    return write


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny preset trained 2 epochs on ``tiny_synth`` (small frontend): the export tests' model."""
    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    root = tmp_path_factory.mktemp("tiny_model")
    out = root / "tiny.pt"
    train(TrainSettings(data=str(tiny_synth), out=str(out), preset="tiny", frontend="small", epochs=2,
                        batch_size=16, progress=False, cache_dir=str(root / "cache")), log=lambda line: None)
    return out


@pytest.fixture(scope="session")
def packaged_model():
    """The packaged demo model, loaded once (the runtime's default)."""
    from asc_edge.runtime.model import SceneModel
    from asc_edge.runtime.packaged import default_model_path

    with default_model_path() as path:
        return SceneModel(path)
