"""The int8 file of one fold scored on its evaluate recordings as ``asc-listen`` decides them: through asc-eval's
own core (runtime/evaluate.py: every window of a recording in LiteRT, the file's decision from the mean of its
windows' probabilities). The recipe may use the runtime for that: it sits above every layer it drives."""

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
    """``recordings`` ``{name relative to data_root: label}`` classified by the int8 file, scored. A recording the
    runtime cannot classify stops the fold (CV must score every evaluate recording)."""
    from asc_edge.plumbing.errors import DataError
    from asc_edge.runtime.eval_data import Item
    from asc_edge.runtime.evaluate import classify_items
    from asc_edge.runtime.model import SceneModel

    model = SceneModel(tflite)
    index = {label: i for i, label in enumerate(model.labels)}
    items = [Item(data_root / name, name, recordings[name], "unknown") for name in sorted(recordings)]
    scored = classify_items(model, items)
    if scored.failed:
        name, why = scored.failed[0]
        raise DataError(f"{name}: the runtime cannot classify it ({why})")
    scores = score_probabilities([index[item.label] for item in scored.items], np.stack(scored.probabilities),
                                 len(model.labels))
    scores["labels"] = list(model.labels)
    return scores


def metrics_scores(metrics: dict) -> dict:
    """The same figures from a training evaluation (``evaluate_predictions``: macro accuracy, log loss, confusion
    of the evaluate clips)."""
    confusion = np.asarray(metrics["confusion"])
    return {"n": int(confusion.sum()), "macro_accuracy": metrics["accuracy"],
            "micro_accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)), "log_loss": metrics["log_loss"],
            "confusion": confusion.tolist()}
