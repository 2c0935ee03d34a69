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
    return _polyphase(x, up, down, n_out).astype(np.float32)


@lru_cache(maxsize=16)
def _block_matrix(up: int, down: int) -> tuple[np.ndarray, int, int]:
    """The filter as one matrix per block of ``up`` outputs: outputs ``b*up .. b*up + up - 1`` are
    ``X[b] @ W`` where ``X[b]`` is the padded input from ``b*down`` on (``span`` samples). The pattern of
    phases and input offsets repeats every ``up`` outputs, so one small dense matrix serves the whole signal
    and a BLAS product replaces a Python loop over taps (~20x faster at 44.1 -> 16 kHz)."""
    bank, half_len = _polyphase_bank(up, down)
    taps_per_phase = bank.shape[1]
    r = np.arange(up, dtype=np.int64)
    t = r * down + half_len
    phase, newest = t % up, t // up  # newest input index (before padding) that meets tap 0
    pad_front = taps_per_phase
    span = int(newest.max()) + pad_front + 1
    matrix = np.zeros((span, up), dtype=np.float64)
    for k in range(taps_per_phase):
        matrix[newest + pad_front - k, r] += bank[phase, k]
    matrix.setflags(write=False)
    return matrix, pad_front, span


def _polyphase(x: np.ndarray, up: int, down: int, n_out: int) -> np.ndarray:
    matrix, pad_front, span = _block_matrix(up, down)
    n_blocks = -(-n_out // up)
    needed = (n_blocks - 1) * down + span
    xp = np.zeros(max(needed, pad_front + x.size), dtype=np.float64)
    xp[pad_front:pad_front + x.size] = x
    blocks = np.lib.stride_tricks.as_strided(xp, shape=(n_blocks, span), strides=(down * xp.strides[0],
                                                                                    xp.strides[0]))
    out = np.empty((n_blocks, up), dtype=np.float64)
    step = max(1, 500_000 // span)  # bounded temporaries (~4 MB) however long the signal
    for first in range(0, n_blocks, step):
        # BLAS needs contiguous rows; the overlapping strided view is copied one slab at a time.
        out[first:first + step] = np.ascontiguousarray(blocks[first:first + step]) @ matrix
    return out.reshape(-1)[:n_out]
