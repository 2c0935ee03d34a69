"""Mel filterbank, identical in construction to ``librosa.filters.mel`` (Slaney or HTK scale)."""

from __future__ import annotations

import numpy as np

_SLANEY_LINEAR_HZ_PER_MEL = 200.0 / 3
_SLANEY_LOG_START_HZ = 1000.0
_SLANEY_LOG_START_MEL = _SLANEY_LOG_START_HZ / _SLANEY_LINEAR_HZ_PER_MEL
_SLANEY_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray, scale: str) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    linear = hz / _SLANEY_LINEAR_HZ_PER_MEL
    log_part = _SLANEY_LOG_START_MEL + np.log(np.maximum(hz, 1e-12) / _SLANEY_LOG_START_HZ) / _SLANEY_LOG_STEP
    return np.where(hz >= _SLANEY_LOG_START_HZ, log_part, linear)


def mel_to_hz(mel: np.ndarray, scale: str) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    linear = mel * _SLANEY_LINEAR_HZ_PER_MEL
    log_part = _SLANEY_LOG_START_HZ * np.exp(_SLANEY_LOG_STEP * (mel - _SLANEY_LOG_START_MEL))
    return np.where(mel >= _SLANEY_LOG_START_MEL, log_part, linear)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float,
                   scale: str = "slaney", norm: str = "slaney") -> np.ndarray:
    """Triangular filters, shape ``(n_mels, 1 + n_fft // 2)``; Slaney norm gives each unit area."""
    fft_hz = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin, scale), hz_to_mel(fmax, scale), n_mels + 2), scale)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights



def mel_bands(config):
    """The filterbank of a frontend config as a float32 CSR matrix ``(n_mels, bins)``.

    It is 99 % zeros (dcase: 4,061 of 524,544 weights), so ``bands @ power`` with ``power`` laid out
    ``(bins, frames)`` costs ~nnz x frames multiply-adds. SciPy's CSR product accumulates every output column
    on its own, in the same order, so a frame's mel energies do not depend on the other frames computed
    with it (batch == streaming bit for bit).
    """
    from scipy import sparse

    weights = mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax,
                             config.mel_scale, config.mel_norm)
    return sparse.csr_matrix(weights.astype(np.float32))
