"""Audio in chunks of any size at the capture rate -> model-rate analysis windows.

The runtime's one window classifier (``runtime/classifier.py``) feeds it in file, stdin and ``--mic`` mode, so
all three give the same windows; their log-mels come from ``audio/windowed.py``.

``WindowStream``: window k is samples ``[k * hop, k * hop + window)`` of the whole signal resampled to the
model rate, plus, at the end, the same extra tail window (or looped short clip) as ``window_starts`` /
``fit_to_window``. The capture is resampled once, continuously (``StreamingResampler`` equals resampling the
whole signal bit for bit); only the last window and hop of model-rate samples are kept, so memory does not
grow with the input.
"""

from __future__ import annotations

import numpy as np

from asc_edge.audio.resample import StreamingResampler
from asc_edge.audio.windows import fit_to_window, needs_tail_window


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
            if needs_tail_window(n, last, self.window, self.hop):  # the rule of window_starts()
                self.tail_start = n - self.window
                ready.append((self.next_window, self._slice(self.tail_start)))
                self.next_window += 1
        return ready

    def start_of(self, index: int) -> int:
        """Model-rate sample where window ``index`` starts."""
        if self.is_tail(index):
            return self.tail_start
        return index * self.hop

    def is_tail(self, index: int) -> bool:
        """Window ``index`` is the extra one ending at the signal's end (off the hop grid, overlapping)."""
        return self.tail_start is not None and index == self.next_window - 1

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
