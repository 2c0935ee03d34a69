"""The confusion matrix drawn on a matplotlib axes, the one drawing for training's report (train/report.py) and
``asc-eval --plot`` (runtime/eval_plot.py). It is handed the axes, so this module imports no matplotlib."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def draw_confusion(ax, labels: Sequence[str], confusion: Sequence[Sequence[int]], numbers: str = "percent") -> None:
    """Row-normalised colours (% of each true class); in the cells that % (``numbers="percent"``) or the counts
    (``"counts"``, empty cells left blank)."""
    counts = np.asarray(confusion, dtype=np.float64)
    percent = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    for (i, j), value in np.ndenumerate(percent):
        if numbers == "counts" and not counts[i, j]:
            continue
        text = f"{value:.0f}" if numbers == "percent" else f"{counts[i, j]:.0f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if value > 50 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
