"""The range an int8 activation scale covers: the tensor's values clipped to a percentile on both sides.

One rule for both places that choose ranges: the training-side simulation (``int8_sim``) and asc-export's
``--ranges percentile`` (``export/ranges.py``). Values are counted in a fixed histogram over the tensor's
[min, max], so memory does not grow with the calibration clips. Why clip at all: measured on the main job's
student, a tensor's standard deviation spans 1-10 int8 steps while its extremes span 30-120 (the table is in
firmware_notes/int8-export-measurements.md).
"""

from __future__ import annotations

import numpy as np

PERCENTILE = 99.99  # of each tensor's calibration values, on both sides
HISTOGRAM_BINS = 8192


def clipped_range(counts: np.ndarray, low: float, high: float,
                  percentile: float = PERCENTILE) -> tuple[float, float]:
    """``(low, high)`` of the values counted in ``counts`` (equal bins over [low, high]), each tail clipped to
    ``100 - percentile`` percent, widened to include zero: int8 must represent zero exactly."""
    bins = len(counts)
    edges = np.linspace(low, high, bins + 1)
    tail = (100.0 - percentile) / 100.0
    cumulative = np.cumsum(counts, dtype=np.float64) / max(float(np.sum(counts)), 1.0)
    clipped_low = edges[int(np.searchsorted(cumulative, tail))]
    clipped_high = edges[min(int(np.searchsorted(cumulative, 1.0 - tail)) + 1, bins)]
    return min(float(clipped_low), 0.0), max(float(clipped_high), 0.0)
