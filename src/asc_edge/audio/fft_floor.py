"""The floor under any log-mel frontend: the bare float32 FFT of the same frames, and nothing else.

Each frame's ``win_length`` samples (centred framing, as the frontend frames them) times the analysis window,
transformed by a float32 real FFT of ``n_fft`` points. No power, mel bands or log: what the frontend costs on
top of this is its own overhead. ``asc-bench`` times it beside the features of every window, and
``benchmarks/frontend_speed.py`` beside the frontend.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft as sp_fft

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import window_values


def bare_fft(config: FrontendConfig) -> Callable[[np.ndarray], np.ndarray]:
    """``transform(samples)``: the complex spectra ``(n_frames, n_fft // 2 + 1)`` of a signal's frames."""
    window = window_values(config).astype(np.float32)
    pad = config.n_fft // 2 if config.center else 0
    offset = (config.n_fft - config.win_length) // 2  # frame i's windowed samples start at padded[offset + i * hop]

    def transform(samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        padded = np.zeros(x.size + 2 * pad, dtype=np.float32)
        padded[pad:pad + x.size] = x
        frames = np.lib.stride_tricks.as_strided(
            padded[offset:], shape=(config.n_frames(x.size), config.win_length),
            strides=(config.hop_length * padded.strides[0], padded.strides[0]), writeable=False)
        return sp_fft.rfft(frames * window, n=config.n_fft, axis=-1)
    return transform
