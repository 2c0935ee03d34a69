"""The int8 file of one fold scored on its evaluate recordings as ``asc-listen`` decides them: every window of a
recording through the runtime (LiteRT), the file's decision from the mean of its windows' probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from asc_edge.data.metrics import confusion_matrix, log_loss, macro_accuracy


def score_probabilities(true: Sequence[int], probabilities: np.ndarray, n_classes: int) -> dict:
    """Macro accuracy (mean of class accuracies), micro accuracy (share of recordings right), log loss and the
    confusion matrix (rows: true class) of per-recording probabilities."""
    true = np.asarray(true, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    return {"n": int(true.size), "macro_accuracy": macro_accuracy(true, predicted, n_classes),
            "micro_accuracy": float((predicted == true).mean()), "log_loss": log_loss(true, probabilities),
            "confusion": confusion_matrix(true, predicted, n_classes).tolist()}


def score_file(tflite: Path, data_root: Path, recordings: dict[str, str]) -> dict:
    """``recordings`` ``{name relative to data_root: label}`` classified by the int8 file, scored."""
    from asc_edge.runtime.files import classify_source
    from asc_edge.runtime.model import SceneModel

    model = SceneModel(tflite)
    index = {label: i for i, label in enumerate(model.labels)}
    names = sorted(recordings)
    probabilities = np.stack([classify_source(model, str(data_root / name)).probabilities for name in names])
    scores = score_probabilities([index[recordings[n]] for n in names], probabilities, len(model.labels))
    scores["labels"] = list(model.labels)
    return scores


def metrics_scores(metrics: dict) -> dict:
    """The same figures from a training evaluation (``evaluate_predictions``: macro accuracy, log loss, confusion
    of the evaluate clips)."""
    confusion = np.asarray(metrics["confusion"])
    return {"n": int(confusion.sum()), "macro_accuracy": metrics["accuracy"],
            "micro_accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)), "log_loss": metrics["log_loss"],
            "confusion": confusion.tolist()}
