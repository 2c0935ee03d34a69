"""Polyphase rational resampling in numpy.

The filter design follows ``scipy.signal.resample_poly`` (Kaiser window, beta 5.0, half length
10 * max(up, down) taps per phase), so results agree with SciPy to float precision while the runtime needs
no SciPy. The polyphase form only evaluates the taps that touch real input samples.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

KAISER_BETA = 5.0
HALF_LENGTH_PER_RATE = 10


def _design_lowpass(up: int, down: int) -> np.ndarray:
    """Windowed-sinc anti-aliasing filter with cutoff at the lower Nyquist, gain ``up`` at DC."""
    max_rate = max(up, down)
    half_len = HALF_LENGTH_PER_RATE * max_rate
    n_taps = 2 * half_len + 1
    cutoff = 1.0 / max_rate  # fraction of the upsampled Nyquist frequency
    m = np.arange(n_taps, dtype=np.float64) - half_len
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(n_taps, KAISER_BETA)
    return h * (up / h.sum())


@lru_cache(maxsize=16)
def _polyphase_bank(up: int, down: int) -> tuple[np.ndarray, int]:
    """Filter taps rearranged as ``bank[phase, k] = h[phase + k * up]``; returns (bank, half_len)."""
    h = _design_lowpass(up, down)
    taps_per_phase = -(-h.size // up)
    padded = np.zeros(taps_per_phase * up, dtype=np.float64)
    padded[: h.size] = h
    bank = padded.reshape(taps_per_phase, up).T.copy()
    bank.setflags(write=False)
    return bank, HALF_LENGTH_PER_RATE * max(up, down)


def resample(signal: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a 1-D signal from ``orig_rate`` to ``target_rate`` Hz (float32 out).

    Output length is ``ceil(len * target / orig)``, aligned so that output sample k sits at input time
    ``k * orig / target`` (zero-phase), exactly like ``scipy.signal.resample_poly``.
    """
    if orig_rate <= 0 or target_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_rate} -> {target_rate}")
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"resample expects a 1-D signal, got shape {x.shape}")
    g = gcd(int(orig_rate), int(target_rate))
    up, down = int(target_rate) // g, int(orig_rate) // g
    if up == down:
        return x.astype(np.float32)
    n_out = -(-x.size * up // down)
    if n_out == 0:
        return np.zeros(0, dtype=np.float32)
    bank, half_len = _polyphase_bank(up, down)
    taps_per_phase = bank.shape[1]
    # Output k is centred at upsampled index t = k * down; the filter is centred at half_len.
    t = np.arange(n_out, dtype=np.int64) * down + half_len
    phase = t % up
    newest_input = t // up  # input index that meets tap 0 of this phase
    # Pad so every index newest_input - k (k < taps_per_phase) is valid; padding is silence.
    pad_front = taps_per_phase
    pad_back = max(0, int(newest_input[-1]) - x.size + 1)
    xp = np.concatenate([np.zeros(pad_front), x, np.zeros(pad_back)])
    out = np.zeros(n_out, dtype=np.float64)
    base = newest_input + pad_front
    for k in range(taps_per_phase):
        out += bank[phase, k] * xp[base - k]
    return out.astype(np.float32)
