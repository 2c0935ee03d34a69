"""The frontend's windowed mode: the log-mel of each analysis window of a stream, computing each frame once.

A frame whose windowed samples lie inside the window equals the frame at the same place of any other window
that contains it (the frontend computes every frame on its own), so overlapping windows on the same frame grid
(start offsets that differ by a multiple of the frontend hop) share those frames. Only the few frames that
reach into a window's zero padding (``center``) are computed per window. Windows whose starts are on
different grids cannot share frames: their frames sit at different sample positions; each grid keeps its own
cache.
"""

from __future__ import annotations

from collections import OrderedDict
from math import ceil, gcd

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend


class WindowedLogMel:
    """Log-mel features of windows of ``window`` samples whose starts are given: ``features(start, samples)``
    returns exactly ``frontend(samples)`` while computing each shared frame once."""

    def __init__(self, frontend: LogMelFrontend, window: int, hop: int) -> None:
        hop_length = frontend.config.hop_length
        self.frontend, self.window = frontend, window
        self._n_frames = frontend.config.n_frames(window)
        self._inside = frontend.inside(window)  # frames [first, last) lie inside the window: shareable
        grids = hop_length // gcd(hop, hop_length)  # distinct start offsets modulo the frontend hop
        # A grid's frames can only be reused by a window that overlaps the one that computed them.
        self._max_grids = max(1, min(grids, ceil(window / hop) + 1))
        self._grids: OrderedDict[int, tuple[int, np.ndarray]] = OrderedDict()  # offset -> (first frame, frames)
        self.enabled = hop < window and self._inside[1] > self._inside[0]
        self.frames_computed = 0  # for the benchmark: frames actually transformed

    def features(self, start: int, samples: np.ndarray) -> np.ndarray:
        """``frontend(samples)`` of the window starting at model-rate sample ``start`` of the signal."""
        if not self.enabled:
            self.frames_computed += self._n_frames
            return self.frontend(samples)
        x = np.asarray(samples, dtype=np.float32)
        first, last = self._inside
        hop_length = self.frontend.config.hop_length
        offset, base = start % hop_length, start // hop_length  # grid, and this window's frame 0 on it
        out = np.empty((self.frontend.config.n_mels, self._n_frames), dtype=np.float32)
        cached_from, cached = self._grids.pop(offset, (0, out[:, :0].copy()))
        lo, hi = base + first, base + last  # the inside frames, numbered on the grid
        have_lo, have_hi = max(lo, cached_from), min(hi, cached_from + cached.shape[1])
        if have_lo != lo or have_hi <= have_lo:  # nothing reusable (first window, or a jump): compute all
            have_lo = have_hi = lo
        else:
            out[:, first:first + have_hi - have_lo] = cached[:, have_lo - cached_from:have_hi - cached_from]
        if have_hi < hi:
            k = have_hi - base
            out[:, k:last] = self.frontend.inside_frames(x, k, last)
            self.frames_computed += last - k
        self._grids[offset] = (lo, out[:, first:last].copy())  # a copy: the caller may change `out`
        while len(self._grids) > self._max_grids:
            self._grids.popitem(last=False)
        # the frames that reach into the window's zero padding: from padded copies of the window's ends
        out[:, :first] = self.frontend.padded_frames(x, 0, first)
        out[:, last:] = self.frontend.padded_frames(x, last, self._n_frames)
        self.frames_computed += first + self._n_frames - last
        return out
