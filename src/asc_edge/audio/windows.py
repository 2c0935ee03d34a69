"""Cutting audio into analysis windows: the same rule for file mode, streaming and benchmarks."""

from __future__ import annotations

import math

import numpy as np

#: The shortest audio the runtime classifies (its --min-duration default); training skips shorter recordings.
MIN_CLIP_SECONDS = 1.0
#: The tail window is added only when it analyses more than this share of a window that no other window
#: covered. Without a margin a 5.001 s file gave windows at 0 and 0.009 s: two near-identical clips, which
#: doubled the evaluate counts of a folder of 5 s recordings (5.0 s at 44.1 kHz is 80,000 samples at 16 kHz
#: against a 79,872-sample window) and counted them twice. 10 % is 0.5 s of a 5 s window.
TAIL_MIN_SHARE = 0.1


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Starts of the windows that cover a signal: every ``hop`` while a full window fits, plus one window
    ending at the signal's end (overlapping the one before) when it ends in more than ``TAIL_MIN_SHARE`` of a
    window of audio that no window covers, so no real tail goes unanalysed. A hop longer than the window (duty
    cycling) leaves gaps on purpose: the extra window
    is added only when the next window should have started and the audio ends before it completes."""
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if needs_tail_window(n_samples, starts[-1], window, hop):
        starts.append(n_samples - window)
    return starts


def needs_tail_window(n_samples: int, last_start: int, window: int, hop: int) -> bool:
    """Whether audio after the last full window (at ``last_start``) is left unanalysed: the rule of
    :func:`window_starts`, shared with the streaming ``WindowStream`` and so with training, asc-listen and
    asc-eval. Only audio beyond ``TAIL_MIN_SHARE`` of a window counts: a few milliseconds (a file a hair longer
    than the window) are not worth a second, near-identical window."""
    return n_samples - (last_start + max(window, hop)) > TAIL_MIN_SHARE * window


def fit_to_window(samples: np.ndarray, window: int) -> np.ndarray:
    """A clip shorter than the window is repeated (looped) to fill it, as short TAU-style clips are."""
    if samples.size >= window:
        return samples
    return np.tile(samples, math.ceil(window / samples.size))[:window]
