"""One gate = measured value, threshold, comparison and verdict, kept together so every place that shows a
gate (``asc-export``'s summary, ``export_report.json``, the main job's summary) shows all four.

A gate is a plain dict so it goes into the JSON report as it is::

    {"name": "top-1 agreement", "measured": 90.1, "threshold": 85.0, "comparison": ">=", "passed": true,
     "unit": "%", "digits": 1}

``measured`` and ``threshold`` are in the unit that is printed (agreement in %, not as a fraction), so a reader
of the JSON and of the terminal sees the same numbers. To add a gate, build it with :func:`make_gate` and
append it to the report's ``gates`` list; the printers need no change.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}
PASS, FAIL = "pass", "FAIL"


def make_gate(name: str, measured: float, threshold: float, comparison: str, unit: str = "",
              digits: int = 1) -> dict:
    """A gate dict; ``passed`` is ``measured <comparison> threshold``. ``digits``: decimals when printed."""
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {', '.join(COMPARISONS)}, not {comparison!r}")
    # numpy scalars (np.int64 from a count, np.float32 from a metric) become Python numbers: the report is JSON.
    measured, threshold = (v.item() if hasattr(v, "item") else v for v in (measured, threshold))
    return {"name": name, "measured": measured, "threshold": threshold, "comparison": comparison,
            "passed": bool(COMPARISONS[comparison](measured, threshold)), "unit": unit, "digits": digits}


def _number(value: float, digits: int) -> str:
    if isinstance(value, bool) or isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                                              and abs(value) >= 1000):
        return f"{int(value):,}"
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.2e}"  # e.g. an ONNX max |diff| of 3e-06 must not print as 0.0
    return f"{value:.{digits}f}"


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def gate_line(gate: dict) -> str:
    """``top-1 agreement 90.1 % >= 85.0 %  pass``: measured, comparison, threshold, verdict."""
    measured, threshold = gate["measured"], gate["threshold"]
    digits = int(gate.get("digits", 1))
    # Rounding must not print "99.0 % >= 99.0 %  FAIL": add decimals until two different values look different.
    for extra in range(4):
        shown_measured, shown_threshold = _number(measured, digits + extra), _number(threshold, digits + extra)
        if shown_measured != shown_threshold or measured == threshold:
            break
    unit = gate.get("unit", "")
    verdict = PASS if gate["passed"] else FAIL
    return (f"{gate['name']} {_with_unit(shown_measured, unit)} {gate['comparison']} "
            f"{_with_unit(shown_threshold, unit)}  {verdict}")


def gate_lines(gates: Iterable[dict]) -> list[str]:
    return [gate_line(gate) for gate in gates]


def failed_gates(gates: Iterable[dict]) -> list[dict]:
    return [gate for gate in gates if not gate["passed"]]


def export_gates(*, ops: dict[str, int], types: dict[str, int], io: dict, file_bytes: int, max_bytes: int,
                 onnx_diff: float, onnx_bound: float, fidelity: dict, min_agreement: float,
                 max_drop_pp: float, max_log_loss_increase: float | None = None,
                 tflm: dict | None = None, activations: str = "int8") -> list[dict]:
    """``asc-export``'s gates, in the order they are checked. The failure messages with their hints stay in
    ``report["failures"]``; these are the figures behind them. ``tflm``: the report's TFLite Micro section."""
    from asc_edge.export.checks import MICRO_OPS, integer_types

    gates = [
        make_gate("ONNX Runtime vs PyTorch max |logit diff|", float(onnx_diff), float(onnx_bound), "<=",
                  digits=2),
        make_gate("non-integer tensors", sum(n for t, n in types.items() if t not in integer_types(activations)),
                  0, "=="),
        make_gate(f"non-{activations.upper()} input/output tensors",
                  sum(io[side]["type"] != activations.upper() for side in ("input", "output")),
                  0, "=="),
        make_gate("ops outside the TFLite Micro allow-list",
                  sum(n for op, n in ops.items() if op not in MICRO_OPS), 0, "=="),
        make_gate(".tflite file size", int(file_bytes), int(max_bytes), "<=", unit="B"),
        make_gate("top-1 agreement with PyTorch", 100 * fidelity["top1_agreement"], 100 * min_agreement, ">=",
                  unit="%", digits=1),
        make_gate("macro-accuracy drop", float(fidelity["accuracy_drop_pp"]), float(max_drop_pp), "<=",
                  unit="pp", digits=2),
    ]
    if max_log_loss_increase is not None and fidelity.get("log_loss_increase") is not None:
        gates.append(make_gate("log-loss increase (quantised - float)", float(fidelity["log_loss_increase"]),
                               float(max_log_loss_increase), "<=", digits=3))
    if tflm is not None:
        # TFLM names the first operator it refuses and stops: the count is 0 or "at least 1".
        gates.insert(4, make_gate("TFLite Micro interpreter failures", 0 if tflm.get("runs") else 1, 0, "=="))
    return gates
