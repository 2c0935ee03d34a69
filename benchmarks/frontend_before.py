"""The log-mel frontend as it was before issue 14 (git 6f58ac4), kept verbatim as the benchmarks' 'before'.

float64 ``np.fft.rfft`` over all ``n_fft`` points (the zero padding included) in blocks of 8 frames, then a
dense float64 product with the (bins x mels) filterbank. Not used by the package.
"""

from __future__ import annotations

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import analysis_window
from asc_edge.audio.melbank import mel_filterbank

BLOCK_FRAMES = 8


class BeforeLogMelFrontend:
    def __init__(self, config: FrontendConfig) -> None:
        self.config = config
        self._window = analysis_window(config)
        self._mel_t = np.ascontiguousarray(
            mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax,
                           config.mel_scale, config.mel_norm).T)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        cfg = self.config
        pad = cfg.n_fft // 2 if cfg.center else 0
        padded = np.concatenate([np.zeros(pad), np.asarray(samples, dtype=np.float64), np.zeros(pad)])
        return self.frames_from_padded(padded, 0, cfg.n_frames(np.asarray(samples).size))

    def _log(self, mel_power: np.ndarray) -> np.ndarray:
        floored = np.maximum(mel_power, self.config.log_floor)
        return np.log(floored) if self.config.log == "ln" else 10.0 * np.log10(floored)

    def frames_from_padded(self, padded: np.ndarray, first_frame: int, n_frames: int) -> np.ndarray:
        cfg = self.config
        lead = first_frame % BLOCK_FRAMES
        n_blocks = -(-(lead + n_frames) // BLOCK_FRAMES)
        frames = np.lib.stride_tricks.as_strided(
            padded, shape=(n_frames, cfg.n_fft), strides=(cfg.hop_length * padded.strides[0], padded.strides[0]))
        block = np.zeros((n_blocks * BLOCK_FRAMES, cfg.n_fft))
        block[lead:lead + n_frames] = frames
        spectrum = np.fft.rfft(block.reshape(n_blocks, BLOCK_FRAMES, cfg.n_fft) * self._window, axis=-1)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        mel = np.matmul(power, self._mel_t).reshape(n_blocks * BLOCK_FRAMES, cfg.n_mels)
        return self._log(mel[lead:lead + n_frames]).astype(np.float32).T
