"""Audio in chunks of any size at the capture rate -> model-rate analysis windows -> their log-mel features.

Shared by file mode (files and stdin are read in blocks) and ``--mic``, so both give the same windows.

``WindowStream``: window k is samples ``[k * hop, k * hop + window)`` of the whole signal resampled to the
model rate, plus, at the end, the same extra tail window (or looped short clip) as ``window_starts`` /
``fit_to_window``. The capture is resampled once, continuously (``StreamingResampler`` equals resampling the
whole signal bit for bit); only the last window and hop of model-rate samples are kept, so memory does not
grow with the input.

``SharedFrames``: the log-mel of a window, computing each frame once. A frame whose windowed samples lie
inside the window equals the frame at the same place of any other window that contains it (the frontend
computes every frame on its own), so overlapping windows on the same frame grid (start offsets that differ
by a multiple of the frontend hop) share those frames. Only the few frames that reach into a window's
zero padding (``center``) are computed per window. Windows whose starts are on different grids cannot
share frames: their frames sit at different sample positions; each grid keeps its own cache.
"""

from __future__ import annotations

from collections import OrderedDict
from math import ceil, gcd

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.resample import StreamingResampler
from asc_edge.audio.windows import fit_to_window


class WindowStream:
    def __init__(self, capture_rate: int, model_rate: int, window: int, hop: int) -> None:
        if window < 1 or hop < 1:
            raise ValueError("window and hop must be at least one sample")
        self.capture_rate, self.model_rate, self.window, self.hop = capture_rate, model_rate, window, hop
        self._resampler = StreamingResampler(capture_rate, model_rate)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # model-rate index of self._buffer[0]
        self._received = 0  # capture samples
        self.model_samples = 0  # model-rate samples produced so far
        self.peak = 0.0  # largest |sample| at the model rate (digital silence check)
        self.next_window = 0  # index k of the next window to emit
        self.tail_start: int | None = None  # start of the extra window finish() emitted, if any
        self.looped = False  # finish() repeated a clip shorter than one window
        self._finished = False

    @property
    def received_seconds(self) -> float:
        return self._received / self.capture_rate

    @property
    def buffered_samples(self) -> int:
        """Model-rate samples held (at most about one window and one hop, whatever the input's length)."""
        return int(self._buffer.size)

    def push(self, chunk: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add mono capture-rate samples; returns ``(window index, window samples)`` for each completed window."""
        samples = np.asarray(chunk).reshape(-1)
        self._received += samples.size
        return self._take(self._resampler.push(samples))

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """End of the audio: the windows that only the end completes (the resampler's tail, the extra window
        ending at the signal's end, or the looped clip). Their starts: ``start_of(index)``."""
        if self._finished:
            raise RuntimeError("finish() called twice")
        self._finished = True
        ready = self._take(self._resampler.flush())
        n = self.model_samples
        if n == 0:
            return ready
        if n < self.window:  # never a full window: loop the clip (it is all in the buffer)
            self.looped = True
            ready.append((0, fit_to_window(self._buffer[:n], self.window)))
            self.next_window = 1
        elif n > self.window:
            last = (self.next_window - 1) * self.hop
            if n - (last + self.window) > self.hop / 2:  # the rule of window_starts()
                self.tail_start = n - self.window
                ready.append((self.next_window, self._slice(self.tail_start)))
                self.next_window += 1
        return ready

    def start_of(self, index: int) -> int:
        """Model-rate sample where window ``index`` starts."""
        if self.tail_start is not None and index == self.next_window - 1:
            return self.tail_start
        return index * self.hop

    def _slice(self, start: int) -> np.ndarray:
        lo = start - self._buffer_start
        return self._buffer[lo:lo + self.window].copy()

    def _take(self, model_samples: np.ndarray) -> list[tuple[int, np.ndarray]]:
        if model_samples.size:
            self.peak = max(self.peak, float(np.max(np.abs(model_samples))))
            self._buffer = np.concatenate([self._buffer, model_samples])
            self.model_samples += model_samples.size
        ready = []
        while self.next_window * self.hop + self.window <= self.model_samples:
            ready.append((self.next_window, self._slice(self.next_window * self.hop)))
            self.next_window += 1
        # keep what the next window and a possible final tail window (the last `window` samples) need
        keep_from = min(self.next_window * self.hop, max(self.model_samples - self.window, 0))
        if keep_from > self._buffer_start:
            self._buffer = self._buffer[keep_from - self._buffer_start:]
            self._buffer_start = keep_from
        return ready


class SharedFrames:
    """Log-mel features of windows of ``window`` samples whose starts are given: ``features(start, samples)``
    returns exactly ``frontend(samples)`` while computing each shared frame once."""

    def __init__(self, frontend: LogMelFrontend, window: int, hop: int) -> None:
        cfg = frontend.config
        self.frontend, self.window = frontend, window
        self._n_frames = cfg.n_frames(window)
        self._inside = frontend.inside(window)  # frames [first, last) lie inside the window: shareable
        grids = cfg.hop_length // gcd(hop, cfg.hop_length)  # distinct start offsets modulo the frontend hop
        # A grid's frames can only be reused by a window that overlaps the one that computed them.
        self._max_grids = max(1, min(grids, ceil(window / hop) + 1))
        self._grids: OrderedDict[int, tuple[int, np.ndarray]] = OrderedDict()  # offset -> (first frame, frames)
        self.enabled = hop < window and self._inside[1] > self._inside[0]
        self.frames_computed = 0  # for the benchmark: frames actually transformed

    def features(self, start: int, samples: np.ndarray) -> np.ndarray:
        """``frontend(samples)`` of the window starting at model-rate sample ``start`` of the signal."""
        cfg = self.frontend.config
        if not self.enabled:
            self.frames_computed += self._n_frames
            return self.frontend(samples)
        x = np.asarray(samples, dtype=np.float32)
        first, last = self._inside
        hop_length = cfg.hop_length
        offset, base = start % hop_length, start // hop_length  # grid, and this window's frame 0 on it
        out = np.empty((cfg.n_mels, self._n_frames), dtype=np.float32)
        cached_from, cached = self._grids.pop(offset, (0, np.zeros((cfg.n_mels, 0), dtype=np.float32)))
        lo, hi = base + first, base + last  # the inside frames, numbered on the grid
        have_lo, have_hi = max(lo, cached_from), min(hi, cached_from + cached.shape[1])
        if have_lo != lo or have_hi <= have_lo:  # nothing reusable (first window, or a jump): compute all
            have_lo = have_hi = lo
        else:
            out[:, first:first + have_hi - have_lo] = cached[:, have_lo - cached_from:have_hi - cached_from]
        if have_hi < hi:
            k = have_hi - base
            out[:, k:last] = self.frontend.frames(x, k * hop_length + self.frontend.lead, last - k)
            self.frames_computed += last - k
        self._grids[offset] = (lo, out[:, first:last].copy())  # a copy: the caller may change `out`
        while len(self._grids) > self._max_grids:
            self._grids.popitem(last=False)
        # the frames that reach into the window's zero padding: from padded copies of the window's ends
        out[:, :first] = self.frontend.padded_frames(x, 0, first)
        out[:, last:] = self.frontend.padded_frames(x, last, self._n_frames)
        self.frames_computed += first + self._n_frames - last
        return out
