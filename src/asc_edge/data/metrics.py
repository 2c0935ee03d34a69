"""DCASE Task 1 metrics: macro class-wise accuracy, multi-class log loss, breakdowns, size budgets.

Accuracy is the mean of class-wise accuracies (classes absent from ``y_true`` are skipped); log loss is
the multi-class cross-entropy computed like ``sklearn.metrics.log_loss`` (rows renormalised, clipped at
float64 machine epsilon).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from asc_edge.audio.labels import SCENES, SEEN_DEVICES, UNSEEN_DEVICES


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """``cm[true, predicted]`` counts."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def class_accuracies(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Recall of each class; NaN for a class with no examples."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def macro_accuracy(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> float:
    """DCASE accuracy: mean of class-wise accuracies over the classes present."""
    acc = class_accuracies(y_true, y_pred, n_classes)
    return float(np.nanmean(acc)) if np.isfinite(acc).any() else float("nan")


def log_loss(y_true: Sequence[int], probabilities: np.ndarray) -> float:
    """Multi-class cross-entropy (natural log), matching scikit-learn's ``log_loss``."""
    probs = np.asarray(probabilities, dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    eps = np.finfo(np.float64).eps
    probs = np.clip(probs, eps, 1 - eps)
    true = np.asarray(y_true, dtype=np.int64)
    return float(-np.mean(np.log(probs[np.arange(true.size), true])))


def evaluate_predictions(y_true: Sequence[int], probabilities: np.ndarray, devices: Sequence[str],
                         labels: Sequence[str] = SCENES, seen_devices: Iterable[str] = SEEN_DEVICES,
                         unseen_devices: Iterable[str] = UNSEEN_DEVICES) -> dict:
    """Full DCASE report: overall, per device, per class, seen vs unseen devices, confusion matrix."""
    true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probabilities, dtype=np.float64)
    pred = probs.argmax(axis=1)
    dev = np.asarray(devices)
    n = len(labels)

    def summary(mask: np.ndarray) -> dict:
        if not mask.any():
            return {"n": 0, "accuracy": None, "log_loss": None}
        return {"n": int(mask.sum()), "accuracy": macro_accuracy(true[mask], pred[mask], n),
                "log_loss": log_loss(true[mask], probs[mask])}

    per_class = class_accuracies(true, pred, n)
    return {
        **summary(np.ones(true.size, dtype=bool)),
        "per_device": {d: summary(dev == d) for d in dict.fromkeys(dev.tolist())},
        "per_class": {label: (None if np.isnan(a) else float(a)) for label, a in zip(labels, per_class)},
        "seen": summary(np.isin(dev, list(seen_devices))),
        "unseen": summary(np.isin(dev, list(unseen_devices))),
        "labels": list(labels),
        "confusion": confusion_matrix(true, pred, n).tolist(),
    }


def dcase_size_bytes(parameters: Iterable[np.ndarray], bytes_per_parameter: float) -> float:
    """DCASE2021 model size: non-zero parameters x bytes per parameter (e.g. 1 for int8, 4 for float32)."""
    nonzero = sum(int(np.count_nonzero(np.asarray(p))) for p in parameters)
    return nonzero * float(bytes_per_parameter)
