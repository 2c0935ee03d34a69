"""Gate lines say measured value, threshold and verdict, never a rounding that contradicts the verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asc_edge.export.gates import failed_gates, gate_line, gate_lines, make_gate


def test_a_gate_line_has_measured_threshold_and_verdict() -> None:
    assert gate_line(make_gate("top-1 agreement", 99.3, 99.0, ">=", "%")) == "top-1 agreement 99.3 % >= 99.0 %  pass"
    assert gate_line(make_gate("top-1 agreement", 90.1, 99.0, ">=", "%")) == "top-1 agreement 90.1 % >= 99.0 %  FAIL"
    assert gate_line(make_gate(".tflite file size", 71_664, 128_000, "<=", unit="B")) == \
        ".tflite file size 71,664 B <= 128,000 B  pass"
    assert gate_line(make_gate("ops outside the allow-list", 2, 0, "==")) == "ops outside the allow-list 2 == 0  FAIL"
    assert gate_line(make_gate("max |diff|", 2.8e-5, 1e-4, "<=", digits=2)) == "max |diff| 2.80e-05 <= 1.00e-04  pass"


@pytest.mark.parametrize(("measured", "expected"), [
    (98.96, "agreement 98.96 % >= 99.00 %  FAIL"),   # not "99.0 % >= 99.0 %  FAIL"
    (99.004, "agreement 99.004 % >= 99.000 %  pass"),
    (99.0, "agreement 99.0 % >= 99.0 %  pass"),       # equal is equal: no extra digits
])
def test_rounding_never_hides_why_a_gate_failed(measured: float, expected: str) -> None:
    assert gate_line(make_gate("agreement", measured, 99.0, ">=", unit="%")) == expected


def test_gates_are_plain_json_and_the_printer_needs_only_the_list() -> None:
    gates = [make_gate("macro-accuracy drop", 0.62, 0.5, "<=", unit="pp", digits=2)]
    gates.append(make_gate("log-loss increase", 0.031, 0.05, "<=", digits=3))  # a gate added later by someone else
    round_tripped = json.loads(json.dumps(gates))
    assert gate_lines(round_tripped) == ["macro-accuracy drop 0.62 pp <= 0.50 pp  FAIL",
                                         "log-loss increase 0.031 <= 0.050  pass"]
    assert [g["name"] for g in failed_gates(round_tripped)] == ["macro-accuracy drop"]


def test_numpy_measurements_become_json_numbers() -> None:
    gate = make_gate("ops outside the allow-list", np.int64(0), 0, "==")
    assert json.loads(json.dumps(gate))["measured"] == 0 and type(gate["measured"]) is int


def test_an_unknown_comparison_is_refused() -> None:
    with pytest.raises(ValueError, match="comparison"):
        make_gate("x", 1, 2, "=>")
