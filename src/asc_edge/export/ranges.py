"""Activation ranges for the int8 graph chosen from the calibration data's distribution, not its extremes.

The TFLite converter gives every activation tensor the [min, max] it saw in calibration. Our activations are
heavy-tailed: measured on the main job's student, a tensor's standard deviation spans only 1-10 int8 steps
while its extremes span 30-120, so nearly every value lands on a handful of levels (per-tensor relative error
0.2-0.6, top-1 agreement 91 %). Clipping each range to the 99.99th percentile of the calibration values costs
the rare outliers a little and gives everything else 2-4x finer steps (agreement 96 %; the table is in
firmware_notes/int8-export-measurements.md, ``benchmarks/int8_fidelity.py``).

How the ranges reach the file: the converter calibrates only (``_experimental_calibrate_only``: a float model
whose tensors carry the recorded min/max), we replace each activation tensor's min/max, and TensorFlow's MLIR
quantizer (``mlir_quantize``, the same pass ``convert()`` runs) writes the full-int8 file from those ranges.
Ops whose output must keep its input's scale (pooling, reshape, transpose) are still handled by the quantizer.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from asc_edge.train.percentile_range import HISTOGRAM_BINS, PERCENTILE, clipped_range

# "checkpoint": the ranges a QAT checkpoint recorded (asc_edge.train.int8_sim), written as they are.
RANGE_METHODS = ("checkpoint", "percentile", "minmax")


def percentile_ranges(calibrated: bytes, samples: Iterator[np.ndarray], tensors: dict[int, tuple[float, float]],
                      percentile: float = PERCENTILE) -> dict[int, tuple[float, float]]:
    """``{tensor index: (low, high)}`` clipped to ``percentile`` of the values seen on ``samples``.

    One pass with fixed histograms over each tensor's recorded [min, max] (memory does not grow with the clips).
    """
    from ai_edge_litert.interpreter import Interpreter

    from asc_edge.plumbing.native_output import quiet_native_output

    with quiet_native_output(fds=(2,)):
        interpreter = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    histograms = {index: np.zeros(HISTOGRAM_BINS, dtype=np.int64) for index in tensors}
    for sample in samples:
        interpreter.set_tensor(inp["index"], sample)
        interpreter.invoke()
        for index, (low, high) in tensors.items():
            values = interpreter.get_tensor(index)
            if high > low:
                histograms[index] += np.histogram(values, bins=HISTOGRAM_BINS, range=(low, high))[0]
    return {index: clipped_range(histograms[index], low, high, percentile) for index, (low, high) in tensors.items()}


def activation_tensors(calibrated: bytes) -> dict[int, tuple[float, float]]:
    """Activation tensors with a recorded per-tensor range, except the graph's input and output."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    graph = model.subgraphs[0]
    ends = set(graph.inputs) | set(graph.outputs)
    found = {}
    for index, tensor in enumerate(graph.tensors):
        q = tensor.quantization
        if index in ends or q is None or q.min is None or len(q.min) != 1:
            continue
        found[index] = (float(q.min[0]), float(q.max[0]))
    return found


def with_ranges(calibrated: bytes, ranges: dict[int, tuple[float, float]]) -> bytes:
    """The calibrated float model with the given per-tensor ranges in place of the recorded ones."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    tensors = model.subgraphs[0].tensors
    for index, (low, high) in ranges.items():
        tensors[index].quantization.min = [float(low)]
        tensors[index].quantization.max = [float(high)]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


# TFLite ops whose int8 output must keep its input's scale: the quantizer sets their ranges itself.
SCALE_KEEPING_OPS = ("PAD", "TRANSPOSE", "RESHAPE", "AVERAGE_POOL_2D", "MAX_POOL_2D")
_MATCH_TOLERANCE = 1e-3  # relative to the tensor's largest value: float TFLite vs PyTorch differ by ~1e-6


def checkpoint_ranges(calibrated: bytes, graph_input: np.ndarray, points: dict[str, np.ndarray],
                      ranges: dict[str, tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """The checkpoint's ranges, by tensor index of the calibrated graph: each activation tensor is matched to the
    simulation point that holds the same values on one clip (``graph_input``, NHWC, and the point's float
    values ``points`` on the same clip). Layout changes (NCHW vs NHWC, the sub-band reshapes) do not matter:
    the comparison is of sorted values. Tensors of ops that keep their input's scale are left to the quantizer.
    Raises :class:`ExportError` naming the first tensor no point matches, or the first point no tensor does."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tensorflow.lite.tools import flatbuffer_utils

    from asc_edge.export.flatbuffer import tensor_producers
    from asc_edge.plumbing.errors import ExportError
    from asc_edge.plumbing.native_output import quiet_native_output

    with quiet_native_output(fds=(2,)):
        interpreter = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], graph_input.astype(np.float32))
        interpreter.invoke()
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    graph = model.subgraphs[0]
    producers = tensor_producers(calibrated)
    sorted_points = {name: np.sort(values.ravel()) for name, values in points.items()}
    chosen: dict[int, tuple[float, float]] = {}
    used: set[str] = set()
    for index, tensor in enumerate(graph.tensors):
        q = tensor.quantization
        if q is None or q.min is None or len(q.min) != 1 or model.buffers[tensor.buffer].data is not None:
            continue
        if producers.get(index) in SCALE_KEEPING_OPS:
            continue
        values = np.sort(interpreter.get_tensor(index).ravel())
        bound = _MATCH_TOLERANCE * max(1.0, float(np.abs(values).max()))
        # Several points can hold equal values on one clip (an all-zero tensor of a collapsed model): each of
        # them counts as found, and the tensor takes the first one no earlier tensor took.
        candidates = [name for name, point in sorted_points.items()
                      if point.size == values.size and float(np.abs(point - values).max()) <= bound]
        match = next((name for name in candidates if name not in used), candidates[0] if candidates else None)
        if match is None:
            raise ExportError(f"the checkpoint's int8 ranges do not match the converted graph: tensor {index} "
                              f"({producers.get(index, 'graph input')}, shape {list(tensor.shape)}) is none of "
                              "its simulation's tensors (a checkpoint from another asc-edge version?)")
        chosen[index] = ranges[match]
        used.update(candidates)
    missing = [name for name in ranges if name not in used]
    if missing:
        raise ExportError(f"the checkpoint's int8 range {missing[0]!r} matches no tensor of the converted graph "
                          "(a checkpoint from another asc-edge version?)")
    return chosen
