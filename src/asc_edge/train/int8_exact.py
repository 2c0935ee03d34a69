"""The int8 simulation's logits computed in float64: what the file's integer kernels compute.

In float32 the simulation's sums round differently from the kernels' exact int32 sums wherever a value lies
within float32 rounding of a quantisation step's midpoint, and a one-step difference early in the graph can
move the logits (the temporal branch's gain amplifies it; firmware_notes/int8-export-measurements.md). Measured
on the `dcase` student of seed 2 (asc-synth, the main job's size), 300 evaluate clips against LiteRT: float32
0.50 output LSB mean absolute difference and top-1 98.7 %; float64 0.033 LSB and 100 %. Training keeps float32
(speed, and the gradients do not need it); asc-export compares the file with these logits.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from asc_edge.train.int8_sim import Int8Simulation


def exact_logits(simulation: Int8Simulation, features: np.ndarray, batch: int = 64) -> np.ndarray:
    """The simulation's logits for ``features`` (raw log-mels, ``(n, 1, n_mels, n_frames)``), in float64."""
    exact = copy.deepcopy(simulation).double().eval()
    with torch.no_grad():
        return np.concatenate([
            exact(torch.from_numpy(np.ascontiguousarray(features[i:i + batch], dtype=np.float64))).numpy()
            for i in range(0, len(features), batch)])
