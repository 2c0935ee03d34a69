"""Polyphase rational resampling in numpy.

The filter design follows ``scipy.signal.resample_poly`` (Kaiser window, beta 5.0, half length
10 * max(up, down) taps per phase), so results agree with SciPy to float precision while the runtime needs
no SciPy. The polyphase form only evaluates the taps that touch real input samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import numpy as np

KAISER_BETA = 5.0
HALF_LENGTH_PER_RATE = 10
# Rates a file may declare. Below 1 kHz no acoustic scene is left (telephony starts at 8 kHz); 384 kHz is the
# highest rate audio interfaces and WAV/FLAC recorders actually write. Outside: refused up front.
MIN_RATE, MAX_RATE = 1_000, 384_000
# Resampling a rate pair builds its exact filter (2 * 10 * max(up, down) + 1 taps, a few float64 temporaries
# while designing it) and one small matrix per group of output phases (see ``_plan``). Every common rate pair
# needs under 3 MB (44.1 -> 16 kHz: 0.6 MB); a co-prime pair such as 44,101 -> 16,000 Hz needs ~45 MB;
# 383,999 -> 16,000 Hz would need ~400 MB. Above this limit the rate is refused with one line, before reading.
MAX_FILTER_BYTES = 64 * 2**20
# Outputs per matrix product at least (48 -> 16 kHz has a single phase per period): 1 made BLAS products of
# one column; 8 and 16 measured alike, 32 +10 %, 64 +50 % (10 s at 48 -> 16 kHz).
MIN_COLUMNS = 16


def filter_bytes(orig_rate: int, target_rate: int) -> int:
    """Peak bytes that setting up ``orig_rate -> target_rate`` allocates for its filter (0: no resampling)."""
    g = gcd(int(orig_rate), int(target_rate))
    up, down = int(target_rate) // g, int(orig_rate) // g
    if up == down:
        return 0
    half_len = HALF_LENGTH_PER_RATE * max(up, down)
    n_taps = 2 * half_len + 1
    taps = -(-n_taps // up)
    cols, block_out = _shape(up, down, taps)
    rows = -(-cols * down // up) + taps + 1
    return 8 * (4 * n_taps + up * taps + block_out * rows)


def _shape(up: int, down: int, taps: int) -> tuple[int, int]:
    """(outputs per matrix product, outputs per block) of the plan for a rate pair."""
    cols = max(MIN_COLUMNS, -(-taps * up // down))
    block_out = max(1, -(-cols // up)) * up  # whole periods of `up` outputs, at least one group's worth
    return min(cols, block_out), block_out


def unsupported_rate(orig_rate: int, target_rate: int) -> str | None:
    """Why ``orig_rate`` cannot be resampled to ``target_rate`` in bounded memory, or None when it can."""
    if not MIN_RATE <= orig_rate <= MAX_RATE:
        return (f"sample rate {orig_rate} Hz is outside the supported {MIN_RATE // 1000} kHz - "
                f"{MAX_RATE // 1000} kHz")
    need = filter_bytes(orig_rate, target_rate)
    if need > MAX_FILTER_BYTES:
        return (f"sample rate {orig_rate} Hz cannot be resampled to {target_rate} Hz in bounded memory (its exact "
                f"filter needs {need / 2**20:,.0f} MiB, the limit is {MAX_FILTER_BYTES // 2**20} MiB); convert it "
                f"to a common rate such as 44100 or 48000 Hz first")
    return None


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
    x = np.asarray(signal)
    if x.ndim != 1:
        raise ValueError(f"resample expects a 1-D signal, got shape {x.shape}")
    stream = StreamingResampler(orig_rate, target_rate)
    return np.concatenate([stream.push(x), stream.flush()])


@dataclass(frozen=True)
class _Group:
    """Outputs ``cols`` of every block come from ``rows`` of the block's padded input: ``X @ matrix``."""

    col_lo: int
    col_hi: int
    row_lo: int
    row_hi: int
    matrix: np.ndarray  # (row_hi - row_lo, col_hi - col_lo), float64


@dataclass(frozen=True)
class _Plan:
    block_out: int  # outputs per block (a multiple of up)
    block_in: int  # input samples per block (the same multiple of down)
    pad_front: int  # zeros before the first input sample
    groups: tuple[_Group, ...]


@lru_cache(maxsize=16)
def _plan(up: int, down: int) -> _Plan:
    """The filter as small dense matrices, one per group of consecutive output phases.

    Output ``o`` of the signal sits at input time ``o * down / up``; its taps touch the ``taps_per_phase``
    inputs ending at ``newest(o) = (o * down + half_len) // up``. The pattern repeats every ``up`` outputs
    (``down`` inputs), so a block of outputs is ``X[b] @ W`` with ``X[b]`` the padded input from
    ``b * block_in``. Splitting W's columns into groups of ~``taps * up / down`` outputs (at least
    ``MIN_COLUMNS``, for BLAS's sake; a block holds several periods when ``up`` is smaller) keeps each group's
    rows to about two filter lengths: a whole period's matrix would be ``down / taps`` times larger and
    mostly zeros (44.1 -> 16 kHz: 0.7 MB and ~10x the multiply-adds). Products run on fixed slabs of blocks
    (``SLAB``), so an output does not depend on how the input was chunked.
    """
    bank, half_len = _polyphase_bank(up, down)
    taps = bank.shape[1]
    cols, block_out = _shape(up, down, taps)
    block_in = block_out // up * down
    pad_front = taps
    groups = []
    for lo in range(0, block_out, cols):
        r = np.arange(lo, min(lo + cols, block_out), dtype=np.int64)
        t = r * down + half_len
        phase, newest = t % up, t // up + pad_front  # newest padded-input index each output touches
        row_lo, row_hi = int(newest.min()) - taps + 1, int(newest.max()) + 1
        matrix = np.zeros((row_hi - row_lo, r.size), dtype=np.float64)
        for k in range(taps):
            matrix[newest - k - row_lo, r - lo] = bank[phase, k]
        matrix.setflags(write=False)
        groups.append(_Group(lo, lo + r.size, row_lo, row_hi, matrix))
    return _Plan(block_out, block_in, pad_front, tuple(groups))


# Blocks per matrix product. Every product has this many rows and starts at a block index that is a multiple
# of it, in batch and in streaming alike: a BLAS result may depend on the row count and on the row's place in
# the call (measured: it does on x86 OpenBLAS), never on the other rows' values, so fixed slabs make an output
# independent of how the input was chunked. A slab whose input is not all there yet is computed with zeros
# in place of the missing input and computed again, whole, once it is.
SLAB = 8


def _slab_outputs(xp: np.ndarray, first: int, n_slabs: int, plan: _Plan, group: _Group) -> np.ndarray:
    """``group``'s outputs of the ``n_slabs`` slabs from block ``first`` (a multiple of ``SLAB``), shape
    ``(n_slabs * SLAB, group columns)``; ``xp`` is the padded input from block 0's first sample on, and input
    beyond its end counts as zeros."""
    width, step = group.row_hi - group.row_lo, plan.block_in
    out = np.empty((n_slabs, SLAB, group.col_hi - group.col_lo))
    complete = max(0, (xp.size - group.row_hi) // step + 1)  # blocks whose input is all in xp
    n_full = max(0, min(n_slabs, (complete - first) // SLAB))
    per_call = max(1, 65_536 // (SLAB * width))  # bounded temporaries (~4 MB) however long the signal
    for lo in range(0, n_full, per_call):
        count = min(per_call, n_full - lo)
        view = np.lib.stride_tricks.as_strided(
            xp[(first + lo * SLAB) * step + group.row_lo:], shape=(count, SLAB, width),
            strides=(SLAB * step * xp.strides[0], step * xp.strides[0], xp.strides[0]), writeable=False)
        out[lo:lo + count] = np.ascontiguousarray(view) @ group.matrix  # one (SLAB x width) product per slab
    for k in range(n_full, n_slabs):
        rows = np.zeros((1, SLAB, width))
        for r in range(SLAB):
            begin = (first + k * SLAB + r) * step + group.row_lo
            piece = xp[begin:begin + width]
            rows[0, r, :piece.size] = piece
        out[k] = (rows @ group.matrix)[0]
    return out.reshape(n_slabs * SLAB, -1)


class StreamingResampler:
    """``resample`` in chunks of any size: the concatenated outputs of ``push`` and ``flush`` equal
    ``resample(whole signal)`` bit for bit, and memory stays bounded by the filter and one chunk.

    Each group of output phases of a block is computed as soon as the input it needs has arrived, so an
    output is available about half a filter length after its input time (not a whole block later).
    """

    def __init__(self, orig_rate: int, target_rate: int) -> None:
        orig_rate, target_rate = int(orig_rate), int(target_rate)
        if orig_rate <= 0 or target_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {orig_rate} -> {target_rate}")
        need = filter_bytes(orig_rate, target_rate)
        if need > MAX_FILTER_BYTES:
            raise ValueError(f"resampling {orig_rate} -> {target_rate} Hz needs a {need / 2**20:,.0f} MiB filter "
                             f"(limit {MAX_FILTER_BYTES // 2**20} MiB)")
        g = gcd(orig_rate, target_rate)
        self.up, self.down = target_rate // g, orig_rate // g
        self._received = 0
        self._finished = False
        if self.up != self.down:
            self._plan = _plan(self.up, self.down)
            self._xp = np.zeros(self._plan.pad_front, dtype=np.float64)  # padded input from block _base on
            self._base = 0  # block whose first input sample is _xp[0]
            self._done = [0] * len(self._plan.groups)  # blocks computed, per group
            self._staged = np.zeros((0, self._plan.block_out))  # outputs of blocks _base .. (some groups only)
            self._emitted = 0  # outputs returned so far

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add input samples; returns the output samples that became final (float32, maybe empty)."""
        if self._finished:
            raise RuntimeError("push() after flush()")
        if self.up == self.down:  # float32 output as resample() gives: no float64 detour
            x = np.array(samples, dtype=np.float32).reshape(-1)
            self._received += x.size
            return x
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        self._received += x.size
        self._xp = np.concatenate([self._xp, x])
        return self._advance(None)

    def flush(self) -> np.ndarray:
        """End of input (zeros after it, as ``resample`` assumes): the last output samples."""
        if self._finished:
            raise RuntimeError("flush() called twice")
        self._finished = True
        if self.up == self.down:
            return np.zeros(0, dtype=np.float32)
        return self._advance(-(-self._received * self.up // self.down))

    def _advance(self, n_out: int | None) -> np.ndarray:
        plan = self._plan
        available = self._xp.size  # padded input samples from block _base on
        for j, group in enumerate(plan.groups):
            if n_out is None:
                ready = self._base + max(0, (available - group.row_hi) // plan.block_in + 1)
            else:  # at the end the input after the last sample is zeros: every block up to the last output
                ready = -(-n_out // plan.block_out)
            if ready <= self._done[j]:
                continue
            first = self._done[j] // SLAB * SLAB  # the slab holding the first block still to compute
            n_slabs = -(-(ready - first) // SLAB)
            end = first + n_slabs * SLAB - self._base
            if end > self._staged.shape[0]:
                grown = np.zeros((end, plan.block_out))
                grown[:self._staged.shape[0]] = self._staged
                self._staged = grown
            self._staged[first - self._base:end, group.col_lo:group.col_hi] = _slab_outputs(
                self._xp, first - self._base, n_slabs, plan, group)
            self._done[j] = ready
        # outputs are final up to the first group (in block, then phase order) that is not done
        complete = min(self._done)
        final = complete * plan.block_out
        for j, group in enumerate(plan.groups):
            if self._done[j] > complete:
                final = complete * plan.block_out + group.col_hi
            else:
                break
        if n_out is not None:
            final = n_out
        start = self._emitted - self._base * plan.block_out
        out = self._staged.reshape(-1)[start:final - self._base * plan.block_out].astype(np.float32)
        self._emitted = final
        keep = complete // SLAB * SLAB  # slabs stay whole: a partial one is computed again later
        if keep > self._base:  # drop finished slabs and the input only they needed
            drop = keep - self._base
            self._staged = self._staged[drop:]
            self._xp = self._xp[drop * plan.block_in:]
            self._base = keep
        return out
