"""The training report folder: ``metrics.json``, ``confusion.png`` and ``per_device.png`` (only when devices are
known: one bar for the device "unknown" says nothing), and the lines ``asc-train`` ends with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from asc_edge.data.folder_devices import UNKNOWN_DEVICE
from asc_edge.plumbing.atomic_io import write_atomic, write_text_atomic


def write_metrics_json(folder: Path, report: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    write_text_atomic(path, json.dumps(report, indent=2) + "\n")
    return path


def write_plots(folder: Path, metrics: dict, title: str) -> list[Path]:
    """Confusion matrix (row-normalised, %) and accuracy per device with seen/unseen colouring."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    labels = metrics["labels"]
    confusion = np.asarray(metrics["confusion"], dtype=np.float64)
    percent = 100 * confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    for (i, j), value in np.ndenumerate(percent):
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7,
                color="white" if value > 50 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    confusion_path = _save_figure(fig, ax, f"{title}: confusion (% of true class)", folder / "confusion.png")

    devices = [d for d, m in metrics["per_device"].items() if m["accuracy"] is not None]
    if not [d for d in devices if d != UNKNOWN_DEVICE]:
        return [confusion_path]
    unseen = set(metrics.get("unseen_devices", ()))
    accuracies = [100 * metrics["per_device"][d]["accuracy"] for d in devices]
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    bars = ax.bar(devices, accuracies, color=["tab:orange" if d in unseen else "tab:blue" for d in devices])
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.axhline(100 * metrics["accuracy"], color="grey", linestyle="--", linewidth=1)
    ax.set_ylim(0, 105)
    ax.set_ylabel("macro accuracy (%)")
    device_path = _save_figure(fig, ax, f"{title}: accuracy per device (orange: unseen in training)",
                               folder / "per_device.png")
    return [confusion_path, device_path]


def _save_figure(fig, ax, title: str, path: Path) -> Path:
    from matplotlib import pyplot as plt

    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    write_atomic(path, lambda handle: fig.savefig(handle, dpi=110, format="png"))
    plt.close(fig)
    return path


def final_lines(metrics: dict, plots: list[str]) -> list[str]:
    """What the run ends with beside the overall figures: each class's accuracy on the evaluate split (the
    classes the macro accuracy averages) and where the pictures are."""
    cells = [f"{label} {'-' if a is None else f'{100 * a:.1f}'}" for label, a in metrics["per_class"].items()]
    return ["eval accuracy per class (%): " + "  ".join(cells), "pictures: " + ", ".join(str(p) for p in plots)]
