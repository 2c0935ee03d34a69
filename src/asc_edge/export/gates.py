"""One gate = measured value, threshold, comparison, verdict and failure message, kept together so every place
that shows a gate (``asc-export``'s summary, ``export_report.json``, the main job's summary) shows all of them,
and each verdict is decided once: ``report["failures"]`` is the failed gates' messages (:func:`export_failures`).

A gate is a plain dict so it goes into the JSON report as it is::

    {"name": "top-1 agreement", "measured": 90.1, "threshold": 85.0, "comparison": ">=", "passed": true,
     "unit": "%", "digits": 1, "failure": null}

``measured`` and ``threshold`` are in the unit that is printed (agreement in %, not as a fraction), so a reader
of the JSON and of the terminal sees the same numbers. To add a gate, build it with :func:`make_gate` and
append it to the report's ``gates`` list; the printers need no change.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}
PASS, FAIL = "pass", "FAIL"


def make_gate(name: str, measured: float, threshold: float, comparison: str, unit: str = "",
              digits: int = 1, failure: str = "") -> dict:
    """A gate dict; ``passed`` is ``measured <comparison> threshold`` (a NaN or infinite measurement fails: it
    is kept as its text, ``"nan"``, so the report stays strict JSON). ``digits``: decimals when printed.
    ``failure``: the message (with its hint) that ``report["failures"]`` shows when the gate fails; the gate
    keeps it in ``failure`` (None when it passes)."""
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {', '.join(COMPARISONS)}, not {comparison!r}")
    # numpy scalars (np.int64 from a count, np.float32 from a metric) become Python numbers: the report is JSON.
    measured, threshold = (v.item() if hasattr(v, "item") else v for v in (measured, threshold))
    finite = math.isfinite(measured)
    passed = finite and bool(COMPARISONS[comparison](measured, threshold))
    gate = {"name": name, "measured": measured if finite else str(measured), "threshold": threshold,
            "comparison": comparison, "passed": passed, "unit": unit, "digits": digits, "failure": None}
    if not passed:
        gate["failure"] = failure or gate_line(gate)
    return gate


def _number(value: float | str, digits: int) -> str:
    if isinstance(value, str):  # a non-finite measurement, kept as its text
        return value
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


def failures(gates: Iterable[dict]) -> list[str]:
    """The failed gates' messages, in the gates' order."""
    return [gate["failure"] for gate in failed_gates(gates)]


# --- asc-export's gates, each with the message and hint it fails with -------------------------------------

# 1e-4 absolute for logits within +-1; float32 rounding grows with the logits' size, so beyond that the bound
# is 1e-4 relative to the largest logit (measured: 2.5e-4 on logits of the dcase profile).
ONNX_TOLERANCE = 1e-4
ONNX_GATE = "ONNX Runtime vs PyTorch max |logit diff|"
NON_INTEGER_GATE, OPS_GATE, TFLM_GATE, SIZE_GATE = ("non-integer tensors", "ops outside the TFLite Micro allow-list",
                                                    "TFLite Micro interpreter failures", ".tflite file size")
FIDELITY_GATES = ("top-1 agreement with PyTorch", "macro-accuracy drop", "log-loss increase (quantised - float)")


def io_gate_name(activations: str) -> str:
    return f"non-{activations.upper()} input/output tensors"


def onnx_gate(diff: float, largest_logit: float) -> dict:
    """ONNX Runtime's logits against PyTorch's on the same inputs; a non-finite difference fails."""
    bound = ONNX_TOLERANCE * max(1.0, largest_logit)
    if math.isfinite(diff):
        failure = (f"ONNX Runtime differs from PyTorch by {diff:.2e} (> {ONNX_TOLERANCE:g} x max(1, largest "
                   f"logit {largest_logit:.3g}))")
    else:
        failure = f"ONNX Runtime vs PyTorch difference is {diff}: the exported graph computes non-finite values"
    return make_gate(ONNX_GATE, float(diff), float(bound), "<=", digits=2, failure=failure)


def integer_gates(types: dict[str, int], io: dict, activations: str = "int8") -> list[dict]:
    """Every tensor of an integer type, and the input and output of the activations' type."""
    from asc_edge.export.checks import integer_types

    io_type = activations.upper()
    float_types = sorted(set(types) - integer_types(activations))
    wrong_sides = [side for side in ("input", "output") if io[side]["type"] != io_type]
    return [
        make_gate(NON_INTEGER_GATE, sum(types[t] for t in float_types), 0, "==",
                  failure=f"non-integer tensors ({', '.join(float_types)}): part of the graph fell back to float"),
        make_gate(io_gate_name(activations), len(wrong_sides), 0, "==",
                  failure=", ".join(f"the {side} tensor is {io[side]['type']}, not {io_type}"
                                    for side in wrong_sides)),
    ]


def op_gate(ops: dict[str, int]) -> dict:
    from asc_edge.export.checks import MICRO_OPS

    outside = sorted(set(ops) - set(MICRO_OPS))
    return make_gate(OPS_GATE, sum(ops[op] for op in outside), 0, "==",
                     failure=f"operators outside the TFLite Micro builtin allow-list: {', '.join(outside)}")


def tflm_gate(tflm: dict) -> dict:
    """``tflm``: the report's TFLite Micro section. TFLM names the first operator it refuses and stops: the
    count is 0 or "at least 1"."""
    return make_gate(TFLM_GATE, 0 if tflm.get("runs") else 1, 0, "==",
                     failure=str(tflm.get("problem")))


def size_gate(size: int, budget: int, breakdown: dict[str, int]) -> dict:
    parts = ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in
                      sorted(breakdown.items(), key=lambda kv: -kv[1]) if value)
    return make_gate(SIZE_GATE, int(size), int(budget), "<=", unit="B",
                     failure=f"the int8 file is {size:,} bytes, over the {budget:,}-byte budget by "
                             f"{size - budget:,} (bytes: {parts}); use a smaller preset or prune "
                             f"(asc-train --init M.pt --prune-structured F)")


def fidelity_gates(fidelity: dict, min_agreement: float, max_drop_pp: float,
                   max_log_loss_increase: float | None = None) -> list[dict]:
    """Each gate's ``failure`` is its own clause; :func:`export_failures` joins the failed ones into the one
    fidelity message with its hint."""
    agreement, drop = fidelity["top1_agreement"], fidelity["accuracy_drop_pp"]
    gates = [
        make_gate(FIDELITY_GATES[0], 100 * agreement, 100 * min_agreement, ">=", unit="%", digits=1,
                  failure=f"top-1 agreement {100 * agreement:.1f} % < {100 * min_agreement:.1f} %"),
        make_gate(FIDELITY_GATES[1], float(drop), float(max_drop_pp), "<=", unit="pp", digits=2,
                  failure=f"macro-accuracy drop {drop:.2f} pp > {max_drop_pp:g} pp"),
    ]
    increase = fidelity.get("log_loss_increase")
    if max_log_loss_increase is not None and increase is not None:
        gates.append(make_gate(FIDELITY_GATES[2], float(increase), float(max_log_loss_increase), "<=", digits=3,
                               failure=f"log-loss increase {increase:.3f} > {max_log_loss_increase:g}"))
    return gates


def export_failures(gates: list[dict], activations: str = "int8", simulated: bool = False) -> list[str]:
    """``report["failures"]``: the failed gates' messages, the fidelity gates' as one message with its hint.
    ``simulated``: the file was compared with a QAT checkpoint's int8 simulation (else with the float model)."""
    clauses = [gate["failure"] for gate in failed_gates(gates) if gate["name"] in FIDELITY_GATES]
    found = [gate["failure"] for gate in failed_gates(gates) if gate["name"] not in FIDELITY_GATES]
    if clauses:
        if activations == "int16":
            hint = ""
        elif simulated:  # the file disagrees with the model it simulates: the ranges did not describe its graph
            hint = ("; the file disagrees with the checkpoint's own int8 simulation: a checkpoint from another "
                    "asc-edge version? retrain its QAT epochs (asc-train --init M.pt --qat --epochs 3)")
        else:  # a float checkpoint: QAT whose ranges reach the file is what makes int8 agree
            hint = ("; this float checkpoint (asc-train --no-qat) is compared with its float model: train with "
                    "asc-train's default QAT epochs (--qat-epochs), whose int8 ranges reach the file, or export "
                    "int16 activations (asc-export --activations int16)")
        found.append("fidelity gate: " + ", ".join(clauses) + hint +
                     " (or relax --min-agreement / --max-drop / --max-log-loss-increase)")
    return found


def export_gates(*, ops: dict[str, int], types: dict[str, int], io: dict, file_bytes: int, max_bytes: int,
                 breakdown: dict[str, int], onnx: dict, fidelity: dict, min_agreement: float,
                 max_drop_pp: float, max_log_loss_increase: float | None = None,
                 tflm: dict | None = None, activations: str = "int8") -> list[dict]:
    """``asc-export``'s gates, in the order they are checked. ``onnx``: the :func:`onnx_gate` already decided
    (the export stops there when it fails); ``tflm``: the report's TFLite Micro section."""
    return [
        onnx,
        *integer_gates(types, io, activations),
        op_gate(ops),
        *([tflm_gate(tflm)] if tflm is not None else []),
        size_gate(file_bytes, max_bytes, breakdown),
        *fidelity_gates(fidelity, min_agreement, max_drop_pp, max_log_loss_increase),
    ]


def gates_after_onnx(activations: str = "int8", tflm: bool = True, log_loss: bool = True) -> list[str]:
    """The names of the gates :func:`export_gates` adds after the ONNX gate: what a stopped export never ran."""
    return [NON_INTEGER_GATE, io_gate_name(activations), OPS_GATE, *([TFLM_GATE] if tflm else []), SIZE_GATE,
            *FIDELITY_GATES[:3 if log_loss else 2]]
