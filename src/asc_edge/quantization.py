"""Float <-> the integer types of an exported file's input and output (numpy only; export and runtime share it)."""

from __future__ import annotations

import numpy as np


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: type = np.int8) -> np.ndarray:
    """Float -> the file's integer input type (int8, or int16 with ``--activations int16``), saturating."""
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)
