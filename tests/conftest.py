"""Shared fixtures: a tiny asc-synth dataset (generated once per session) and a WAV writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.data.synth.generate import generate_dataset

TINY = {"clips_per_class": 8, "duration": 1.5, "sample_rate": 16000, "seed": 3}


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
