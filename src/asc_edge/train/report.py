"""The training report folder: ``metrics.json``, ``confusion.png`` and ``per_device.png`` (only when devices are
known: one bar for the device "unknown" says nothing), and the lines ``asc-train`` ends with."""

from __future__ import annotations

import json
from pathlib import Path

from asc_edge.data.confusion_figure import draw_confusion
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
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    draw_confusion(ax, metrics["labels"], metrics["confusion"])
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
