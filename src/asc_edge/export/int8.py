"""ONNX -> full-integer int8 TFLite: onnx2tf writes a float SavedModel (NHWC), then the TFLite converter
quantises it with a representative dataset of real, in-distribution log-mels (never random inputs: mixing
noise into calibration measured 0.97 -> 0.11-0.14 top-1 agreement, docs/toolchain.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asc_edge.plumbing.errors import ExportError
from asc_edge.plumbing.native_output import quiet_native_output


def onnx_to_saved_model(onnx_path: str | Path, out_dir: str | Path) -> Path:
    """Run onnx2tf in a subprocess (it prints a lot and may exit the interpreter)."""
    env = dict(os.environ)
    # onnx2tf shells out to onnxsim: the venv's bin must be on PATH or some ops fail to convert.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    command = [sys.executable, "-c", "import sys; from onnx2tf.onnx2tf import main; sys.exit(main())",
               "-i", str(onnx_path), "-o", str(out_dir), "-n"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not (Path(out_dir) / "saved_model.pb").is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise ExportError(f"onnx2tf could not convert {onnx_path}: {' | '.join(tail)[:400]}")
    return Path(out_dir)


ACTIVATION_TYPES = ("int8", "int16")


def saved_model_to_int8(saved_model: str | Path, calibration: np.ndarray, ranges: str = "percentile",
                        activations: str = "int8",
                        recorded: Callable[[bytes], dict[int, tuple[float, float]]] | None = None) -> bytes:
    """Full-integer flatbuffer: int8 weights, ``activations``-typed input, output and activations.

    ``calibration``: ``(n, 1, n_mels, n_frames)`` graph inputs (NCHW, as PyTorch sees them); onnx2tf's input is
    NHWC. ``ranges``: ``"minmax"`` (the converter's own calibration) or ``"percentile"``
    (:mod:`asc_edge.export.ranges`; int8 activations only: int16 has 256x finer steps and keeps min/max), or
    ``"checkpoint"``: ``recorded`` maps the calibrated graph to the ranges a QAT checkpoint holds
    (``export.ranges.checkpoint_ranges``), which are written as they are.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_output():  # TensorFlow's import prints CUDA-probing lines straight to fd 2
        import tensorflow as tf

    nhwc = np.ascontiguousarray(calibration.transpose(0, 2, 3, 1).astype(np.float32))

    def representative_dataset():
        for sample in nhwc:
            yield [sample[None]]

    io_type = tf.int16 if activations == "int16" else tf.int8
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = (
        [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8] if activations == "int16"
        else [tf.lite.OpsSet.TFLITE_BUILTINS_INT8])
    converter.inference_input_type = io_type
    converter.inference_output_type = io_type
    clip_ranges = ranges in ("percentile", "checkpoint") and activations == "int8"
    converter._experimental_calibrate_only = clip_ranges  # noqa: SLF001 - the documented-in-source calibration hook
    with quiet_native_output() as log:
        try:
            converted = bytes(converter.convert())
            if clip_ranges:
                from tensorflow.lite.python.convert import mlir_quantize

                from asc_edge.export.ranges import activation_tensors, percentile_ranges, with_ranges

                if ranges == "checkpoint":
                    chosen = recorded(converted)
                else:
                    tensors = activation_tensors(converted)
                    chosen = percentile_ranges(converted, (sample[None] for sample in nhwc), tensors)
                converted = bytes(mlir_quantize(with_ranges(converted, chosen), input_data_type=tf.int8,
                                                output_data_type=tf.int8))
            return converted
        except ExportError:
            raise
        except Exception as exc:  # the converter raises many types (ConverterError, ValueError, RuntimeError)
            error = exc
    raise ExportError(f"TFLite int8 conversion failed: {str(error).splitlines()[0][:200]} | {' | '.join(log)[:300]}")
