"""The model's input Residual Normalization, computed in float32 outside the int8 graph.

``ResNorm(x) = lam * x + (x - mean) / sqrt(var + eps)`` over one window's log-mel ``(n_mels, n_frames)``:
``instance`` takes mean and variance over the whole window (the DCASE2021 report's InstanceNorm of a
one-channel input), ``frequency`` per mel band over time. This is exactly what the PyTorch model's first layer
computes; an exported int8 file whose model card has ``preprocessing.input_resnorm`` expects its input to have
been through this function, so its graph starts from normalised features instead of computing the mean, the
variance and RSQRT on one int8 scale (measured in firmware_notes/int8-export-measurements.md).

numpy only (audio/ is the lowest layer): the runtime, the export's calibration and its fidelity check all call it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

MODES = ("instance", "frequency")
# Where an export puts the input ResNorm: "features" = here, in float32 before quantisation (the model card's
# preprocessing), "graph" = inside the int8 graph (MEAN, SUB, MUL, RSQRT on one per-tensor scale).
INPUT_NORM_PLACES = ("features", "graph")


def input_resnorm_spec(mode: str, lam: float, eps: float) -> dict:
    """The model-card entry describing the normalisation (validated by :func:`check_input_resnorm_spec`)."""
    spec = {"mode": mode, "lambda": float(lam), "eps": float(eps)}
    check_input_resnorm_spec(spec)
    return spec


def check_input_resnorm_spec(spec: object) -> None:
    """Raise ``ValueError`` naming the field when ``spec`` is not a usable input-ResNorm description."""
    if not isinstance(spec, Mapping):
        raise ValueError("preprocessing.input_resnorm must be an object")
    if spec.get("mode") not in MODES:
        raise ValueError(f"preprocessing.input_resnorm.mode must be one of {MODES}, got {spec.get('mode')!r}")
    for field, low, high in (("lambda", 0.0, 1e3), ("eps", 1e-12, 1e3)):
        value = spec.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= float(value) <= high:
            raise ValueError(f"preprocessing.input_resnorm.{field} must be a number in [{low:g}, {high:g}], "
                             f"got {value!r}")


def apply_input_resnorm(features: np.ndarray, spec: Mapping) -> np.ndarray:
    """``lam * x + InstanceNorm(x)`` of log-mels ``(..., n_mels, n_frames)`` in float32 (leading axes batched)."""
    x = np.asarray(features, dtype=np.float32)
    axes = (-2, -1) if spec["mode"] == "instance" else (-1,)
    mean = x.mean(axis=axes, keepdims=True, dtype=np.float64).astype(np.float32)
    centred = x - mean
    var = np.square(centred).mean(axis=axes, keepdims=True, dtype=np.float64).astype(np.float32)
    out = centred / np.sqrt(var + np.float32(spec["eps"]))
    out += np.float32(spec["lambda"]) * x
    return out
