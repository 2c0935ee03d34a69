"""Result writers: table (default), csv, jsonl (one object per window and per file), Audacity labels."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from asc_edge.runtime.files import FileResult

FORMATS = ("table", "csv", "jsonl", "audacity")


# Cells a spreadsheet would run as a formula (OWASP "CSV injection": = + - @, tab, carriage return).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def utf8_text(text: str) -> str:
    """The bytes of a file name that is not UTF-8 (held by Python as surrogate escapes, which no UTF-8 writer
    accepts) written as ``\\xNN``; any other text unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file system byte gave
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def one_line(text: str) -> str:
    """``text`` as one line: tab, newline and carriage return, which end an Audacity label or a table row, are
    written as ``\\t``, ``\\n`` and ``\\r``."""
    text = utf8_text(text)
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets a ``'`` in front (OWASP).
    Tabs and newlines inside stay (the CSV writer quotes them and CSV readers give them back); a carriage
    return becomes ``\\r``, as the writer, whose line end is ``\\n``, would leave it unquoted to end a row."""
    text = utf8_text(text).replace("\r", "\\r")
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


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
                    "looped": result.looped, "top": [{"label": name, "probability": round(p, 6)} for name, p in top],
                    "probabilities": {name: round(float(p), 6) for name, p in zip(labels, probs)}}))
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["file", "kind", "window", "start", "end", "label", "confidence", "looped",
                         *(csv_cell(name) for name in labels)])
        for result in results:
            for kind, index, start, end, probs in _records(result, labels):
                best = int(np.argmax(probs))
                writer.writerow([csv_cell(result.source), kind, "" if index is None else index, f"{start:.3f}",
                                 f"{end:.3f}",
                                 csv_cell(labels[best]), f"{probs[best]:.6f}", int(result.looped),
                                 *(f"{p:.6f}" for p in probs)])
        return out.getvalue()
    if fmt == "audacity":  # label track: start<TAB>end<TAB>text, one per window
        prefix = len(results) > 1
        lines = []
        for result in results:
            for window in result.windows:
                top = _top(window.probabilities, labels, top_k)
                text = " ".join(f"{name} {p:.2f}" for name, p in top)
                lines.append(f"{window.start:.6f}\t{window.end:.6f}\t"
                             f"{one_line(result.source) + ': ' if prefix else ''}{one_line(text)}")
        return "\n".join(lines) + "\n"
    # Window bounds to the millisecond, as in csv (not rounded to 0.1 s: a 4.992 s window must not read "5.0").
    lines = [f"{'file':<40} {'window':>19}  {'label':<18} {'p':>5}  top-{top_k}"]
    for result in results:
        rows = list(_records(result, labels))
        rows = rows[-1:] + (rows[:-1] if len(result.windows) > 1 else [])  # the file row, then its windows
        for kind, _, start, end, probs in rows:
            top = _top(probs, labels, top_k)
            span = f"{start:.3f}-{end:.3f} s" if kind == "window" else "file"
            source = one_line(result.source)
            name = source if len(source) <= 40 else "..." + source[-37:]
            others = ", ".join(f"{n} {p:.2f}" for n, p in top[1:])
            note = "  (looped: shorter than one window)" if kind == "file" and result.looped else ""
            lines.append(f"{name if kind == 'file' else '':<40} {span:>19}  {top[0][0]:<18} {top[0][1]:5.2f}  "
                         f"{others}{note}")
    return "\n".join(lines) + "\n"
