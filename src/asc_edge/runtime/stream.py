"""Audio in chunks of any size at the capture rate -> model-rate analysis windows every hop.

Window k is defined exactly as in file mode: samples ``[k * hop, k * hop + window)`` of the *whole* signal
resampled to the model rate. The resampler is a finite polyphase FIR, so a window only depends on capture
samples within a small margin around it: we resample just that stretch, starting on the resampler's grid
(a multiple of ``down`` capture samples), and get the same numbers as resampling everything at once.
That is why streaming decisions equal file decisions (tested with chunk sizes from 1 sample up).
"""

from __future__ import annotations

from math import gcd

import numpy as np

from asc_edge.audio.resample import HALF_LENGTH_PER_RATE, resample


class WindowStream:
    def __init__(self, capture_rate: int, model_rate: int, window: int, hop: int) -> None:
        if window < 1 or hop < 1:
            raise ValueError("window and hop must be at least one sample")
        self.capture_rate, self.model_rate, self.window, self.hop = capture_rate, model_rate, window, hop
        g = gcd(capture_rate, model_rate)
        self._up, self._down = model_rate // g, capture_rate // g
        # Model-rate samples of context each side: more than the filter's reach (half_len / up inputs).
        self._margin = 0 if self._up == self._down else \
            int(np.ceil(HALF_LENGTH_PER_RATE * max(self._up, self._down) / self._down)) + 2
        self._buffer = np.zeros(0, dtype=np.float64)
        self._buffer_start = 0  # capture-sample index of self._buffer[0]
        self._received = 0
        self.next_window = 0  # index k of the next window to emit

    @property
    def received_seconds(self) -> float:
        return self._received / self.capture_rate

    def _capture_span(self, start: int) -> tuple[int, int, int]:
        """``(first capture index, end capture index, model index of its first output)`` for a window."""
        if self._up == self._down:
            return start, start + self.window, start
        block = (start - self._margin) // self._up  # floor, also below zero
        end_out = start + self.window + self._margin
        return block * self._down, -(-end_out * self._down // self._up), block * self._up

    def push(self, chunk: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add mono capture-rate samples; returns ``(window index, window samples)`` for each completed window."""
        samples = np.asarray(chunk, dtype=np.float64).reshape(-1)
        self._buffer = np.concatenate([self._buffer, samples])
        self._received += samples.size
        ready = []
        while True:
            start = self.next_window * self.hop
            first, end, out0 = self._capture_span(start)
            if end > self._received:
                break
            lo = first - self._buffer_start
            segment = self._buffer[max(lo, 0):end - self._buffer_start]
            if lo < 0:  # before the first sample: silence, as the file-mode resampler assumes
                segment = np.concatenate([np.zeros(-lo), segment])
            if self._up == self._down:
                window = segment.astype(np.float32)
            else:
                window = resample(segment, self.capture_rate, self.model_rate)[start - out0:start - out0 + self.window]
            ready.append((self.next_window, window))
            self.next_window += 1
        keep_from = max(self._capture_span(self.next_window * self.hop)[0], self._buffer_start)
        self._buffer = self._buffer[keep_from - self._buffer_start:]
        self._buffer_start = keep_from
        return ready
