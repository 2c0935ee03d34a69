"""How faithful the int8 file is to the PyTorch model, on held-out in-distribution log-mels.

Both models see the same evaluate-fold features; the int8 file runs in the real LiteRT interpreter with its
own input quantisation. Top-1 agreement and the macro-accuracy drop are what the export gates on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from asc_edge.audio.labels import UNSEEN_DEVICES
from asc_edge.data.metrics import log_loss, macro_accuracy
from asc_edge.modelfile.quantization import dequantize, quantize
from asc_edge.plumbing.native_output import quiet_native_output


def int8_logits(tflite: bytes, features: np.ndarray) -> np.ndarray:
    """Dequantised logits of the int8 file for ``features`` ``(n, 1, n_mels, n_frames)`` (NCHW, as PyTorch)."""
    from ai_edge_litert.interpreter import Interpreter

    # Integer kernels give the same result on any thread count; threads only make the check faster.
    with quiet_native_output(fds=(2,)):  # allocate_tensors prints LiteRT's "INFO: Created ... XNNPACK" line
        interpreter = Interpreter(model_content=tflite, num_threads=min(4, os.cpu_count() or 1))
        interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    in_scale, in_zero = inp["quantization"]
    out_scale, out_zero = out["quantization"]
    logits = np.empty((len(features), int(out["shape"][-1])), dtype=np.float32)
    for i, x in enumerate(features):
        nhwc = x.transpose(1, 2, 0)[None]  # the converted graph is NHWC: (1, n_mels, n_frames, 1)
        interpreter.set_tensor(inp["index"], quantize(nhwc, in_scale, in_zero, inp["dtype"]))
        interpreter.invoke()
        logits[i] = dequantize(interpreter.get_tensor(out["index"])[0], out_scale, out_zero)
    return logits


def float_logits(model: torch.nn.Module, features: np.ndarray, batch: int = 64) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(np.ascontiguousarray(features[i:i + batch]))).numpy()
                               for i in range(0, len(features), batch)])


# A clip is "decisive" when the float model's top-2 softmax probabilities differ by at least this much: a
# disagreement there is a real change of verdict, not a coin toss the float model itself barely made.
DECISIVE_MARGIN = 0.2


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def compare(reference: np.ndarray, int8: np.ndarray, labels: np.ndarray, devices: Sequence[str],
            n_classes: int) -> dict:
    """Agreement (overall, seen and unseen devices, decisive clips), macro accuracy of both and the drop in
    percentage points, log loss of both and the mean KL(float || int8) of the softmax outputs."""
    ref_top, q_top = reference.argmax(1), int8.argmax(1)
    agree = ref_top == q_top
    p_float, p_int8 = _softmax(reference), _softmax(int8)
    top2 = np.sort(p_float, axis=1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) >= DECISIVE_MARGIN
    tiny = 1e-15  # sklearn's clip: KL stays finite when int8 rounds a probability to zero
    kl = (p_float * (np.log(np.clip(p_float, tiny, 1)) - np.log(np.clip(p_int8, tiny, 1)))).sum(axis=1)
    float_log_loss, int8_log_loss = log_loss(labels, p_float), log_loss(labels, p_int8)
    unseen = np.isin(np.asarray(devices), UNSEEN_DEVICES)
    float_accuracy = macro_accuracy(labels, ref_top, n_classes)
    int8_accuracy = macro_accuracy(labels, q_top, n_classes)
    return {
        "clips": int(agree.size),
        "top1_agreement": float(agree.mean()),
        "top1_agreement_seen_devices": float(agree[~unseen].mean()) if (~unseen).any() else None,
        "top1_agreement_unseen_devices": float(agree[unseen].mean()) if unseen.any() else None,
        "float_macro_accuracy": float_accuracy,
        "int8_macro_accuracy": int8_accuracy,
        "accuracy_drop_pp": 100.0 * (float_accuracy - int8_accuracy),
        "mean_abs_logit_diff": float(np.abs(reference - int8).mean()),
        "decisive_margin": DECISIVE_MARGIN,
        "decisive_clips": int(decisive.sum()),
        "top1_agreement_decisive": float(agree[decisive].mean()) if decisive.any() else None,
        "float_log_loss": float_log_loss,
        "int8_log_loss": int8_log_loss,
        "log_loss_increase": int8_log_loss - float_log_loss,
        "mean_kl_float_int8": float(kl.mean()),
    }
