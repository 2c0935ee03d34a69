"""The one rule that chooses an int8 activation range from a histogram (simulation and asc-export share it)."""

from __future__ import annotations

import numpy as np

from asc_edge.train.percentile_range import clipped_range


def _counts(values: np.ndarray, bins: int = 8192) -> tuple[np.ndarray, float, float]:
    low, high = float(values.min()), float(values.max())
    return np.histogram(values, bins=bins, range=(low, high))[0], low, high


def test_rare_outliers_are_clipped_and_the_bulk_is_kept() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.0, 1.0, 200_000), [-80.0, 120.0]])  # 1 in 100,000 per tail
    low, high = clipped_range(*_counts(values), percentile=99.99)
    assert -5.0 < low < -3.0 and 3.0 < high < 5.0  # the 0.01 % tails of N(0, 1) are near +-3.7
    assert clipped_range(*_counts(values), percentile=100.0) == (-80.0, 120.0)


def test_the_range_always_holds_zero() -> None:
    positive = np.linspace(2.0, 9.0, 10_000)
    low, high = clipped_range(*_counts(positive))
    assert low == 0.0 and 8.9 < high <= 9.0
    low, high = clipped_range(*_counts(-positive))
    assert -9.0 <= low < -8.9 and high == 0.0


def test_a_constant_tensor_spans_zero_to_its_value() -> None:
    """A tensor with one value has no histogram (its min equals its max): its range runs from zero to it."""
    assert clipped_range(np.zeros(16), 3.0, 3.0) == (0.0, 3.0)
    assert clipped_range(np.zeros(16), -2.0, -2.0) == (-2.0, 0.0)
