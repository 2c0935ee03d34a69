"""The cross-validation summary: per fold and mean +- sd of the float model before QAT, its int8 simulation and
the int8 file; the file's confusion matrix summed over folds; ``RUN_DIR/cv.json``, ``cv.md``, ``confusion.png``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from asc_edge.plumbing.atomic_io import write_text_atomic

MODELS = (("float", "float"), ("int8_simulation", "sim"), ("int8_file", "file"))
FIGURES = (("macro_accuracy", "macro", 100, "{:.1f}"), ("micro_accuracy", "micro", 100, "{:.1f}"),
           ("log_loss", "loss", 1, "{:.3f}"))
LEGEND = ("float: the float model before QAT; sim: its int8 simulation (the QAT checkpoint); file: the int8 file "
          "in LiteRT, each recording decided as asc-listen does. macro: mean of class accuracies (%); micro: share "
          "of recordings right (%); loss: log loss")


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1: the folds are a sample of possible splits)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0


def _cell(scores: dict | None, key: str, scale: float, fmt: str) -> str:
    return "-" if not scores else fmt.format(scale * scores[key])


def summarise(results: list[dict], run_dir: Path, log: Callable[[str], None] = print) -> dict:
    header = ["fold"] + [f"{name} {label}" for _, name in MODELS for _, label, _, _ in FIGURES] + ["file bytes"]
    rows = []
    for r in results:
        rows.append([str(r["fold"])] + [_cell(r.get(m), k, s, f) for m, _ in MODELS for k, _, s, f in FIGURES]
                    + [f"{r['export']['file_bytes']:,}" if r["export"].get("passed") else
                       "-" if r["export"].get("skipped") else "refused"])
    summary: dict = {"folds": len(results), "per_fold": results}
    mean_row = ["mean +- sd"]
    for model, _ in MODELS:
        summary[model] = {}
        for key, _, scale, fmt in FIGURES:
            values = [r[model][key] for r in results if r.get(model)]
            if len(values) < len(results):
                mean_row.append("-")
                continue
            mean, sd = mean_sd(values)
            summary[model][key] = {"mean": mean, "sd": sd}
            mean_row.append(f"{fmt.format(scale * mean)} +- {fmt.format(scale * sd)}")
    sizes = [r["export"]["file_bytes"] for r in results if r["export"].get("passed")]
    mean_row.append(f"{int(np.mean(sizes)):,}" if sizes else "-")
    rows.append(mean_row)
    files = [r["int8_file"] for r in results if r.get("int8_file")]
    lines = [LEGEND, *_table(header, rows)]
    if files:
        labels = files[0]["labels"]
        confusion = np.sum([np.asarray(f["confusion"]) for f in files], axis=0)
        summary["int8_file_confusion"] = {"labels": labels, "confusion": confusion.tolist()}
        per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
        summary["int8_file_per_class"] = dict(zip(labels, per_class.tolist()))
        lines += ["", f"int8 file, confusion summed over {len(files)} folds (rows: true, columns: predicted):"]
        lines += _table([""] + [label[:8] for label in labels],
                        [[label] + [str(v) for v in row] for label, row in zip(labels, confusion.tolist())])
        lines += ["", "int8 file, accuracy per class over all folds: "
                  + ", ".join(f"{label} {100 * a:.1f}" for label, a in zip(labels, per_class))]
        picture = _plot(run_dir, labels, confusion, summary)
        if picture:
            lines.append(f"confusion matrix picture: {picture}")
    lines.append("every figure is the last epoch's model of each fold (nothing chosen on the evaluate fold)")
    for line in lines:
        log(line)
    write_text_atomic(run_dir / "cv.json", json.dumps(summary, indent=1))
    write_text_atomic(run_dir / "cv.md", "\n".join(lines) + "\n")
    return summary


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [header, *rows]]


def _plot(run_dir: Path, labels: list[str], confusion: np.ndarray, summary: dict) -> Path | None:
    try:
        from asc_edge.train.report import write_plots
    except ImportError:  # no matplotlib: the console table and cv.json carry the same figures
        return None
    accuracy = summary["int8_file"].get("macro_accuracy", {}).get("mean", float("nan"))
    paths = write_plots(run_dir, {"labels": labels, "confusion": confusion.tolist(), "per_device": {},
                                  "accuracy": accuracy}, f"{len(summary['per_fold'])}-fold CV, int8 file")
    return paths[0]
