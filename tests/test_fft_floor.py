"""The FFT floor asc-bench times beside the features is the frontend's own windowing and FFT of its frames."""

from __future__ import annotations

import numpy as np
import pytest

from asc_edge.audio.fft_floor import bare_fft
from asc_edge.audio.frontend import LogMelFrontend, window_values
from asc_edge.audio.profiles import PROFILES


def _reference_spectra(config, samples: np.ndarray) -> np.ndarray:
    """Centred frames, windowed, zero-padded to n_fft, float64 FFT: ``(bins, frames)``, written independently."""
    pad = config.n_fft // 2
    offset = (config.n_fft - config.win_length) // 2
    padded = np.concatenate([np.zeros(pad), samples.astype(np.float64), np.zeros(pad)])
    n_frames = 1 + samples.size // config.hop_length
    frames = np.stack([padded[offset + i * config.hop_length:][:config.win_length] for i in range(n_frames)])
    return np.fft.rfft(frames * window_values(config), n=config.n_fft, axis=-1).T


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_floor_transforms_the_frontends_frames(profile: str) -> None:
    config = PROFILES[profile]
    samples = np.random.default_rng(3).standard_normal(6 * config.sample_rate).astype(np.float32) * 0.1
    frontend = LogMelFrontend(config)
    chunks = list(frontend.spectra(*frontend.whole_signal(samples)))
    assert len(chunks) > 1  # several FFT calls: the chunking is covered too
    spectra = np.concatenate([spectrum for _, spectrum in chunks], axis=1)
    reference = _reference_spectra(config, samples)
    assert spectra.shape == reference.shape
    # float32 FFT against float64: measured 1.3e-07-1.8e-07 of the largest magnitude (6 s of noise, both
    # profiles); frames one hop off differ by 1.4-1.5 times it.
    assert np.abs(spectra - reference).max() < 1e-5 * np.abs(reference).max()
    assert bare_fft(config)(samples) == reference.shape[1]
