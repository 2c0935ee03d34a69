"""The floor under the log-mel frontend: the bare float32 FFT of the same frames, and nothing else.

The frontend's own windowing and FFT path (``LogMelFrontend.spectra``: the same padded copy, frames, window,
zero-padded ``n_fft``-point float32 real FFT in the same layout and calls), without the power, mel bands and
log. What the frontend costs on top of this is its own overhead. ``asc-bench`` times it beside the features of
every window, and ``benchmarks/frontend_speed.py`` beside the frontend. Being the frontend's own FFT path, it is
also the fastest way measured to transform these frames: a row-wise ``rfft(frames * window, n=n_fft)``, with no
buffer reuse, took 3.8-3.9 ms per 5 s ``dcase`` window against 3.2-3.3 ms (process CPU time, 60 rounds, two
cores shared with a training run).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend


def bare_fft(config: FrontendConfig) -> Callable[[np.ndarray], int]:
    """``transform(samples)``: the FFT of every frame of the signal, as the frontend frames it; returns the
    number of frames (the spectra are dropped: only the time counts)."""
    frontend = LogMelFrontend(config)  # its own FFT buffer, so timing it leaves the measured frontend's alone

    def transform(samples: np.ndarray) -> int:
        signal, first, n_frames = frontend.whole_signal(samples)
        for _ in frontend.spectra(signal, first, n_frames):
            pass
        return n_frames
    return transform
