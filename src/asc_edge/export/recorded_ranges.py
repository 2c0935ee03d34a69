"""Which activation ranges an export uses, and how a QAT checkpoint's own ranges reach the file.

A checkpoint trained with converter-faithful QAT (``asc-train --qat-epochs``, :mod:`asc_edge.train.int8_sim`)
records one range per tensor of the int8 graph; its simulated forward is the model ``asc-train`` evaluated.
``asc-export`` writes exactly those ranges (no recalibration) and gates the file against that simulation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from asc_edge.export.ranges import RANGE_METHODS, checkpoint_ranges
from asc_edge.plumbing.errors import ExportError
from asc_edge.train.int8_sim import RECORD_KEY, Int8Simulation


def resolve_ranges(checkpoint: dict, path: str, asked: str | None, activations: str, input_norm: str) -> str:
    """The range method for this export: ``asked``, or by default the checkpoint's own ranges when it records
    them (int8 activations), else percentiles. Refuses combinations that cannot give the recorded graph."""
    recorded = RECORD_KEY in checkpoint
    method = asked or ("checkpoint" if recorded and activations == "int8" else "percentile")
    if method not in RANGE_METHODS:
        raise ExportError(f"--ranges must be one of {', '.join(RANGE_METHODS)}, got {method!r}")
    if method == "checkpoint":
        if not recorded:
            raise ExportError(f"{path}: records no int8 ranges (--ranges checkpoint needs a checkpoint trained "
                              "with QAT: asc-train --qat-epochs N)")
        if activations != "int8":
            raise ExportError("--ranges checkpoint is for int8 activations: the recorded ranges are int8 ranges")
        if input_norm != "features":
            raise ExportError("a checkpoint's int8 ranges describe the graph whose input ResNorm runs in the float "
                              "feature step: export it with --input-norm features (the default)")
    return method


def recorded_ranges(simulation: Int8Simulation | None, raw_clip: np.ndarray,
                    graph_clip: np.ndarray) -> Callable[[bytes], dict[int, tuple[float, float]]] | None:
    """For the converter: calibrated graph -> the simulation's ranges by tensor index, matched on one clip
    (``raw_clip``: the model's input, ``graph_clip``: the same clip as the graph takes it, both NCHW)."""
    if simulation is None:
        return None
    points = simulation.point_values(torch.from_numpy(np.ascontiguousarray(raw_clip, dtype=np.float32)))
    nhwc = np.ascontiguousarray(graph_clip.transpose(0, 2, 3, 1), dtype=np.float32)
    return lambda calibrated: checkpoint_ranges(calibrated, nhwc, points, simulation.ranges)
