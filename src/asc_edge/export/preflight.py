"""``asc-export``'s checks before any work: a checkpoint and an output folder that cannot give a valid file are
refused in a second, with one line naming the problem, not after minutes of conversion (or never).

* the output folder (and an explicit cache folder) must be writable;
* every weight and buffer must be finite, and so must the logits the model computes (on silence here, on the
  real evaluate clips once they are loaded): a NaN otherwise slips through the ONNX parity check (NaN compares
  false with every tolerance) and breaks the int8 converter's calibration;
* every field the model card will carry must pass the rules the runtime's reader applies (one rule set:
  ``asc_edge.modelfile.card.ModelCard``; labels distinct, non-blank, printable, 1 to 100 characters; a window
  that fits the frontend) and fit the model (one label per output, the model config's mel bands);
* the byte budget: every convolution and linear weight becomes one int8 (1 byte) constant of the file, so
  their element count is a strict lower bound on the file's bytes (biases, per-channel scales, the graph and
  the model card only add to it). A model whose count alone exceeds ``--max-bytes`` cannot pass the size gate.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from asc_edge.modelfile.card import ModelCard
from asc_edge.plumbing.errors import ExportError
from asc_edge.plumbing.output_paths import require_writable
from asc_edge.train.checkpoint import frontend_of


def int8_weight_bytes(model: nn.Module) -> int:
    """Bytes the int8 weights of ``model``'s convolutions and linear layers take at least (1 byte each).

    Normalisation parameters are left out on purpose: the converter folds them into the convolutions, so they
    need not appear in the file and counting them would no longer give a lower bound.
    """
    layers = (nn.Conv1d, nn.Conv2d, nn.Linear)
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, layers))


def _non_finite_tensor(checkpoint: dict) -> str | None:
    for name, tensor in checkpoint["state_dict"].items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not bool(tensor.isfinite().all()):
            return name
    return None


def _card_problem(checkpoint: dict, model: nn.Module) -> str | None:
    """The first model-card field a reader would refuse (:class:`ModelCard`'s rules, the very ones the runtime
    applies) or that does not fit the model, as a phrase naming the field; None when all fit."""
    problem = ModelCard.problem_before_export(checkpoint, frontend_of(checkpoint))
    if problem is not None:
        return problem
    labels, n_mels = checkpoint["labels"], checkpoint["input_shape"][0]
    config = getattr(model, "config", None)
    if config is not None and getattr(config, "n_mels", n_mels) != n_mels:
        return f"model card field 'model_config' has n_mels {config.n_mels}, the input shape {n_mels}"
    if config is not None and getattr(config, "n_classes", len(labels)) != len(labels):
        return f"model card field 'labels' has {len(labels)} names, but model_config has n_classes {config.n_classes}"
    return None


def check_before_export(checkpoint: dict, path: str | Path, model: nn.Module, out_dir: Path, max_bytes: int,
                        cache_dir: str | None = None) -> dict:
    """Refuse (``ExportError``) what cannot give a valid export; returns the facts measured on the way."""
    require_writable(out_dir, "export folder", is_dir=True, error=ExportError)
    if cache_dir:
        require_writable(cache_dir, "feature cache folder", is_dir=True, error=ExportError)
    bad = _non_finite_tensor(checkpoint)
    if bad is not None:
        raise ExportError(f"{path}: weight {bad} holds NaN or infinite values (a diverged training run); "
                          f"export an earlier checkpoint, e.g. the .best.pt one")
    problem = _card_problem(checkpoint, model)
    if problem is not None:
        raise ExportError(f"{path}: {problem}")
    labels = checkpoint["labels"]
    with torch.no_grad():
        logits = model.eval()(torch.zeros(1, 1, *checkpoint["input_shape"]))
    if logits.ndim != 2 or logits.shape[1] != len(labels):
        raise ExportError(f"{path}: model card field 'labels' has {len(labels)} names, but the model computes "
                          f"{logits.shape[-1]} outputs")
    if not bool(logits.isfinite().all()):
        raise ExportError(f"{path}: the model computes non-finite logits on silence; nothing to export")
    lower_bound = int8_weight_bytes(model)
    if lower_bound > max_bytes:
        raise ExportError(f"{path}: cannot fit {max_bytes:,} bytes: its {lower_bound:,} convolution and linear "
                          f"weights alone take {lower_bound:,} bytes as int8 (1 byte each); use a smaller preset "
                          f"or prune (asc-train --init M.pt --prune-structured F)")
    return {"int8_weight_bytes_lower_bound": lower_bound}


def require_finite_logits(logits: np.ndarray, path: str | Path, filenames: list[str] | None = None) -> None:
    """The float model's logits on the real clips must be finite before any conversion or gate uses them."""
    finite = np.isfinite(logits).all(axis=1)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        clip = f" (first: {filenames[first]!r})" if filenames else ""
        raise ExportError(f"{path}: the model computes non-finite logits on {int((~finite).sum())} of "
                          f"{len(finite)} evaluate clips{clip}; nothing to export")


def require_finite(value: float, what: str) -> None:
    """A measured quantity a gate compares must be a number: NaN passes every ``>`` test silently."""
    if not math.isfinite(value):
        raise ExportError(f"{what} is {value}: the exported graph computes non-finite values")


def litert_logits(tflite: bytes, features: np.ndarray) -> np.ndarray:
    """``fidelity.int8_logits`` whose interpreter failures (a graph LiteRT's kernels or XNNPACK refuse) end in
    one :class:`ExportError` line instead of a traceback, and whose logits must be finite."""
    from asc_edge.export.fidelity import int8_logits

    try:
        logits = int8_logits(tflite, features)
    except (RuntimeError, ValueError, TypeError, ZeroDivisionError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ExportError(f"LiteRT cannot run the converted int8 file ({first})") from exc
    if not np.isfinite(logits).all():
        raise ExportError("the converted int8 file computes non-finite logits (its output is not quantised)")
    return logits
