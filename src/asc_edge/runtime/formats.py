"""Result writers: table (default), csv, jsonl (one object per window and per file), Audacity labels."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from asc_edge.runtime.files import FileResult

FORMATS = ("table", "csv", "jsonl", "audacity")


def _top(probabilities: np.ndarray, labels: list[str], k: int) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(labels[i], float(probabilities[i])) for i in order]


def _records(result: FileResult, labels: list[str]):
    for index, window in enumerate(result.windows):
        yield "window", index, window.start, window.end, window.probabilities
    yield "file", None, 0.0, result.seconds, result.probabilities


def render(results: list[FileResult], labels: list[str], fmt: str, top_k: int) -> str:
    """All results in one format, as text."""
    if fmt == "jsonl":
        lines = []
        for result in results:
            for kind, index, start, end, probs in _records(result, labels):
                top = _top(probs, labels, top_k)
                lines.append(json.dumps({
                    "file": result.source, "kind": kind, "window": index, "start": round(start, 4),
                    "end": round(end, 4), "label": top[0][0], "confidence": round(top[0][1], 6),
                    "top": [{"label": name, "probability": round(p, 6)} for name, p in top],
                    "probabilities": {name: round(float(p), 6) for name, p in zip(labels, probs)}}))
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["file", "kind", "window", "start", "end", "label", "confidence", *labels])
        for result in results:
            for kind, index, start, end, probs in _records(result, labels):
                best = int(np.argmax(probs))
                writer.writerow([result.source, kind, "" if index is None else index, f"{start:.3f}", f"{end:.3f}",
                                 labels[best], f"{probs[best]:.6f}", *(f"{p:.6f}" for p in probs)])
        return out.getvalue()
    if fmt == "audacity":  # label track: start<TAB>end<TAB>text, one per window
        prefix = len(results) > 1
        lines = []
        for result in results:
            for window in result.windows:
                top = _top(window.probabilities, labels, top_k)
                text = " ".join(f"{name} {p:.2f}" for name, p in top)
                lines.append(f"{window.start:.6f}\t{window.end:.6f}\t"
                             f"{result.source + ': ' if prefix else ''}{text}")
        return "\n".join(lines) + "\n"
    lines = [f"{'file':<40} {'window':>15}  {'label':<18} {'p':>5}  top-{top_k}"]
    for result in results:
        rows = list(_records(result, labels))
        rows = rows[-1:] + (rows[:-1] if len(result.windows) > 1 else [])  # the file row, then its windows
        for kind, _, start, end, probs in rows:
            top = _top(probs, labels, top_k)
            span = f"{start:6.1f}-{end:6.1f} s" if kind == "window" else "file"
            name = result.source if len(result.source) <= 40 else "..." + result.source[-37:]
            others = ", ".join(f"{n} {p:.2f}" for n, p in top[1:])
            note = "  (looped: shorter than one window)" if kind == "file" and result.looped else ""
            lines.append(f"{name if kind == 'file' else '':<40} {span:>15}  {top[0][0]:<18} {top[0][1]:5.2f}  "
                         f"{others}{note}")
    return "\n".join(lines) + "\n"
