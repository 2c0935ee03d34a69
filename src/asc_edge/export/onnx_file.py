"""PyTorch -> ONNX (opset 17, static shape), checked by ``onnx.checker`` and by ONNX Runtime against PyTorch."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

INPUT_NAME, OUTPUT_NAME = "logmel", "logits"


def write_onnx(model: torch.nn.Module, input_shape: tuple[int, int], path: str | Path) -> None:
    """Export ``model`` for one ``(1, 1, n_mels, n_frames)`` input to ``path``."""
    import onnx

    example = torch.zeros(1, 1, *input_shape)
    with warnings.catch_warnings():  # the legacy exporter's deprecation and tracer notes are expected
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=False, opset_version=17,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def onnx_max_abs_diff(model: torch.nn.Module, path: str | Path, inputs: np.ndarray) -> tuple[float, float]:
    """``(largest |ONNX Runtime - PyTorch|, largest |PyTorch logit|)`` over ``inputs`` ``(n, 1, n_mels, n_frames)``."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = largest = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = model(torch.from_numpy(x[None])).numpy()
            (got,) = session.run(None, {INPUT_NAME: x[None].astype(np.float32)})
            worst = max(worst, float(np.abs(got - expected).max()))
            largest = max(largest, float(np.abs(expected).max()))
    return worst, largest
