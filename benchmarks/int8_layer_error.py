"""Where int8 loses precision: every activation tensor of the int8 graph against the same tensor of the float
TFLite graph (same SavedModel, tensors matched by name), on real evaluate clips.

    python benchmarks/int8_layer_error.py CHECKPOINT [--ranges minmax|percentile] [--clips 12]

Per tensor: its float standard deviation and largest magnitude in int8 steps (how many levels the typical and
the extreme values get), and the int8 graph's RMS error relative to the float tensor's standard deviation
(error accumulated up to that tensor). Names are shortened to the op that produced the tensor.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from asc_edge.export.calibration import calibration_rows
from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
from asc_edge.export.onnx_file import write_onnx
from asc_edge.export.prepare import exportable_model, graph_inputs, split_input_norm
from asc_edge.modelfile.quantization import dequantize, quantize
from asc_edge.train.checkpoint import frontend_of, load_checkpoint
from asc_edge.train.data import load_training_data


def float_tflite(saved: Path) -> bytes:
    import tensorflow as tf

    return bytes(tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert())


def all_tensors(tflite: bytes, inputs: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """``{name: (values over the clips, dequantised), int8 scale or 0)}`` for every float or int8 activation."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    collected: dict[str, list] = {}
    scales: dict[str, float] = {}
    for x in inputs:
        nhwc = x.transpose(1, 2, 0)[None].astype(np.float32)
        if inp["dtype"] == np.int8:
            scale, zero = inp["quantization"]
            nhwc = quantize(nhwc, scale, zero)
        interpreter.set_tensor(inp["index"], nhwc)
        interpreter.invoke()
        for detail in interpreter.get_tensor_details():
            if detail["dtype"] not in (np.int8, np.float32) or len(detail["shape"]) < 2:
                continue
            try:
                value = interpreter.get_tensor(detail["index"]).astype(np.float32)
            except ValueError:
                continue
            scale, zero = detail["quantization"]
            if detail["dtype"] == np.int8:
                if scale <= 0:
                    continue
                value = dequantize(value, scale, zero)
            collected.setdefault(detail["name"], []).append(value)
            scales[detail["name"]] = float(scale) if detail["dtype"] == np.int8 else 0.0
    return {name: (np.stack(values), scales[name]) for name, values in collected.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--ranges", choices=("minmax", "percentile"), default="minmax")
    parser.add_argument("--clips", type=int, default=12)
    args = parser.parse_args()
    checkpoint = load_checkpoint(args.checkpoint)
    model, spec = split_input_norm(exportable_model(checkpoint, args.checkpoint))
    data = load_training_data(Path(checkpoint["data"]["root"]), frontend_of(checkpoint), None, progress=False)
    calibration = graph_inputs(data.batch(calibration_rows(data.train, 300, 0)).numpy(), spec)
    clips = graph_inputs(data.batch(data.evaluate.rows[:args.clips]).numpy(), spec)
    with tempfile.TemporaryDirectory() as work:
        write_onnx(model, data.input_shape, Path(work) / "m.onnx")
        saved = onnx_to_saved_model(Path(work) / "m.onnx", Path(work) / "saved")
        quantised = all_tensors(saved_model_to_int8(saved, calibration, ranges=args.ranges), clips)
        reference = all_tensors(float_tflite(saved), clips)
    print(f"$ python benchmarks/int8_layer_error.py {args.checkpoint} --ranges {args.ranges} --clips {args.clips}")
    print("| tensor (producing op) | shape | float std / int8 step | max / int8 step | RMS error / std |")
    print("|---|---|---|---|---|")
    for name, (values, scale) in quantised.items():
        if scale == 0 or name not in reference or reference[name][0].shape != values.shape:
            continue
        floats = reference[name][0]
        error = np.sqrt(np.mean((values - floats) ** 2)) / (floats.std() + 1e-12)
        op = name.split(";")[0].split("/")[-2] if "/" in name else name
        print(f"| {op[:40]} | {tuple(values.shape[2:])} | {floats.std() / scale:.1f} | "
              f"{np.abs(floats).max() / scale:.1f} | {error:.3f} |")


if __name__ == "__main__":
    main()
