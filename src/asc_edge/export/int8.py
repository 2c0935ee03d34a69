"""ONNX -> full-integer int8 TFLite: onnx2tf writes a float SavedModel (NHWC), then the TFLite converter
quantises it with a representative dataset of real, in-distribution log-mels (never random inputs: mixing
noise into calibration measured 0.97 -> 0.11-0.14 top-1 agreement in ../shared/toolchain-facts.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from asc_edge.errors import ExportError
from asc_edge.native_output import quiet_native_output


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


def saved_model_to_int8(saved_model: str | Path, calibration: np.ndarray) -> bytes:
    """Full-int8 flatbuffer: int8 input and output, builtin int8 kernels only.

    ``calibration``: ``(n, 1, n_mels, n_frames)`` log-mels (NCHW, as PyTorch sees them); onnx2tf's input is NHWC.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_output():  # TensorFlow's import prints CUDA-probing lines straight to fd 2
        import tensorflow as tf

    nhwc = np.ascontiguousarray(calibration.transpose(0, 2, 3, 1).astype(np.float32))

    def representative_dataset():
        for sample in nhwc:
            yield [sample[None]]

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with quiet_native_output() as log:
        try:
            return bytes(converter.convert())
        except Exception as exc:  # the converter raises many types (ConverterError, ValueError, RuntimeError)
            error = exc
    raise ExportError(f"TFLite int8 conversion failed: {str(error).splitlines()[0][:200]} | {' | '.join(log)[:300]}")
