"""Float <-> the integer types of an exported file's input and output (numpy only; export and runtime share it)."""

from __future__ import annotations

import numpy as np


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: type = np.int8) -> np.ndarray:
    """Float -> the file's integer input type (int8, or int16 with ``--activations int16``), saturating."""
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The file's integer output -> float32 ``(q - zero_point) * scale``: the one formula LiteRT's, TFLite Micro's
    and the runtime's logits all go through, so the export's fidelity gates measure what the device computes."""
    return (np.asarray(values).astype(np.float32) - zero_point) * np.float32(scale)


def file_kind(activations: str) -> str:
    """How summaries and reports name an exported file by its activation width (``asc-export --activations``):
    "int8", or "int16-activation (int8-weight)" (the weights are int8 either way)."""
    return "int8" if activations == "int8" else "int16-activation (int8-weight)"
