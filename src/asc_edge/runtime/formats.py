"""Result writers: table (default), csv, jsonl (one object per window and per file), Audacity labels."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from asc_edge.runtime.files import UNKNOWN_LABEL, FileResult, WindowResult

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


class ResultWriter:
    """Results as text, as they are made: ``header()``, then ``window(result, index, window)`` for each window
    and ``file(result)`` after a file's last; the table alone needs a file's windows at its end (its file row
    comes first), so ``keeps_windows`` says whether ``classify_source`` must keep them. A window or file whose
    top probability is under ``min_confidence`` reads ``unknown`` (its probabilities are still given)."""

    def __init__(self, labels: list[str], fmt: str, top_k: int, several_files: bool,
                 min_confidence: float = 0.0) -> None:
        self.labels, self.fmt, self.top_k, self.several_files = labels, fmt, top_k, several_files
        self.min_confidence = min_confidence
        self.keeps_windows = fmt == "table"

    def header(self) -> str:
        if self.fmt == "csv":
            return self._csv_row(["file", "kind", "window", "start", "end", "label", "confidence", "looped", "tail",
                                  *(csv_cell(name) for name in self.labels)])
        if self.fmt == "table":
            return f"{'file':<40} {'window':>19}  {'label':<18} {'p':>5}  top-{self.top_k}\n"
        return ""

    def window(self, result: FileResult, index: int, window: WindowResult) -> str:
        if self.fmt == "table":
            return ""
        if self.fmt == "audacity":  # label track: start<TAB>end<TAB>text, one per window
            top = _top(window.probabilities, self.labels, self.top_k)
            text = " ".join(f"{name} {p:.2f}" for name, p in top)
            if window.unknown:
                text = f"{UNKNOWN_LABEL} ({text})"
            return (f"{window.start:.6f}\t{window.end:.6f}\t"
                    f"{one_line(result.source) + ': ' if self.several_files else ''}{one_line(text)}\n")
        return self._record(result, "window", index, window.start, window.end, window.probabilities,
                            window.unknown, window.tail)

    def file(self, result: FileResult) -> str:
        probs = result.probabilities
        unknown = float(probs.max()) < self.min_confidence
        if self.fmt == "audacity":
            return ""
        if self.fmt != "table":
            return self._record(result, "file", None, 0.0, result.seconds, probs, unknown, False)
        # Window bounds to the millisecond, as in csv (not rounded to 0.1 s: a 4.992 s window must not read "5.0").
        source = one_line(result.source)
        name = source if len(source) <= 40 else "..." + source[-37:]
        notes = "  (looped: shorter than one window)" if result.looped else ""
        if result.unknown_windows:
            notes += f"  ({result.unknown_windows} of {result.windows_analysed} windows unknown)"
        lines = [self._table_row(name, "file", probs, unknown, notes)]
        if len(result.windows) > 1:
            for w in result.windows:
                lines.append(self._table_row("", f"{w.start:.3f}-{w.end:.3f} s", w.probabilities, w.unknown,
                                             "  (tail: ends at the file's end)" if w.tail else ""))
        return "\n".join(lines) + "\n"

    def _label(self, probabilities: np.ndarray, unknown: bool) -> tuple[str, float]:
        best = int(np.argmax(probabilities))
        return (UNKNOWN_LABEL if unknown else self.labels[best]), float(probabilities[best])

    def _table_row(self, name: str, span: str, probs: np.ndarray, unknown: bool, note: str) -> str:
        top = _top(probs, self.labels, self.top_k)
        label, p = self._label(probs, unknown)
        others = ", ".join(f"{n} {q:.2f}" for n, q in top[int(not unknown):])
        return f"{name:<40} {span:>19}  {label:<18} {p:5.2f}  {others}{note}"

    def _record(self, result: FileResult, kind: str, index: int | None, start: float, end: float,
                probs: np.ndarray, unknown: bool, tail: bool) -> str:
        label, confidence = self._label(probs, unknown)
        if self.fmt == "jsonl":
            top = _top(probs, self.labels, self.top_k)
            record = {"file": result.source, "kind": kind, "window": index, "start": round(start, 4),
                      "end": round(end, 4), "label": label, "confidence": round(confidence, 6),
                      "looped": result.looped, "top": [{"label": name, "probability": round(p, 6)} for name, p in top],
                      "probabilities": {name: round(float(p), 6) for name, p in zip(self.labels, probs)}}
            if kind == "window":
                record["tail"] = tail
            else:
                record.update(windows=result.windows_analysed, unknown_windows=result.unknown_windows)
            return json.dumps(record) + "\n"
        return self._csv_row([csv_cell(result.source), kind, "" if index is None else index, f"{start:.3f}",
                              f"{end:.3f}", csv_cell(label), f"{confidence:.6f}", int(result.looped), int(tail),
                              *(f"{p:.6f}" for p in probs)])

    @staticmethod
    def _csv_row(cells: list) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells)
        return out.getvalue()


def render(results: list[FileResult], labels: list[str], fmt: str, top_k: int, min_confidence: float = 0.0) -> str:
    """All results in one format, as text (what ``ResultWriter`` streams)."""
    writer = ResultWriter(labels, fmt, top_k, len(results) > 1, min_confidence)
    parts = [writer.header()]
    for result in results:
        parts.extend(writer.window(result, index, w) for index, w in enumerate(result.windows))
        parts.append(writer.file(result))
    text = "".join(parts)
    return text if text else "\n"
