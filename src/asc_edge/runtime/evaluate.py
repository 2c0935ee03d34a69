"""``asc-eval``'s core: every recording classified exactly as ``asc-listen FILE`` classifies it (the same
``classify_source``: its windows, tail rule and looping, the file's result the mean of its windows), then scored.

A recording that cannot be classified (unreadable, silent, under the minimum length) is counted and named; the
others are scored. The figures are DCASE's (data/metrics.py): macro accuracy (mean of class-wise accuracies over
the classes present), log loss of the file probabilities, per device and seen vs unseen where known, plus the
share of recordings right (``accuracy``, micro) and each class's precision and recall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from asc_edge.data.metrics import evaluate_predictions
from asc_edge.plumbing.errors import AscEdgeError, DataError
from asc_edge.runtime.eval_data import EvalData, Item
from asc_edge.runtime.files import classify_source
from asc_edge.runtime.model import SceneModel


@dataclass
class Scored:
    """The file probabilities of the recordings that were classified, and the ones that could not be."""

    items: list[Item] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def classify_items(model: SceneModel, items: list[Item],
                   on_item: Callable[[], None] | None = None) -> Scored:
    """Each item through asc-listen's file path (hop = window, the asc-listen default)."""
    scored = Scored()
    for item in items:
        try:
            result = classify_source(model, str(item.path), keep_windows=False)
        except AscEdgeError as exc:
            scored.failed.append((item.name, str(exc)))
        else:
            scored.items.append(item)
            scored.probabilities.append(result.probabilities)
        if on_item is not None:
            on_item()
    return scored


def score(scored: Scored, labels: list[str], data: EvalData, model_name: str) -> dict:
    """The report (JSON-ready): see the module's docstring; DataError when nothing could be classified."""
    if not scored.items:
        first = f" (first: {scored.failed[0][1]})" if scored.failed else ""
        raise DataError(f"{data.root}: none of the {len(scored.failed)} recordings could be classified{first}")
    index = {label: i for i, label in enumerate(labels)}
    true = np.array([index[item.label] for item in scored.items], dtype=np.int64)
    probabilities = np.stack(scored.probabilities)
    devices = [item.device for item in scored.items]
    dcase = evaluate_predictions(true, probabilities, devices, labels=labels, seen_devices=data.seen_devices,
                                 unseen_devices=data.unseen_devices)
    confusion = np.asarray(dcase["confusion"], dtype=np.int64)
    predicted = probabilities.argmax(axis=1)
    support, claimed, right = confusion.sum(axis=1), confusion.sum(axis=0), np.diag(confusion)
    per_class = {}
    for i, label in enumerate(labels):
        recall = float(right[i] / support[i]) if support[i] else None
        per_class[label] = {"n": int(support[i]), "accuracy": recall, "recall": recall,
                            "precision": float(right[i] / claimed[i]) if claimed[i] else None,
                            "predicted": int(claimed[i])}
    report = {
        "model": model_name,
        "data": str(data.root),
        "layout": data.layout,
        "subset": data.subset,
        "recordings": int(true.size),
        "accuracy": float((predicted == true).mean()),  # share of recordings right (micro)
        "macro_accuracy": dcase["accuracy"],  # DCASE: mean of class-wise accuracies
        "log_loss": dcase["log_loss"],
        "per_class": per_class,
        "labels": list(labels),
        "confusion": confusion.tolist(),
        "unreadable": [{"file": name, "error": why} for name, why in scored.failed],
        "skipped": dict(data.skipped),
        "label_map": dict(data.label_map),
    }
    if data.devices_known:  # one "unknown" device is no breakdown
        report["per_device"] = dcase["per_device"]
        if data.seen_devices or data.unseen_devices:
            report["seen"], report["unseen"] = dcase["seen"], dcase["unseen"]
            report["unseen_devices"] = [d for d in data.unseen_devices if d in dcase["per_device"]]
    return report
