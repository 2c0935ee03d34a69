"""Gate lines say measured value, threshold and verdict, never a rounding that contradicts the verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asc_edge.export.gates import (
    export_failures,
    failed_gates,
    failures,
    fidelity_gates,
    gate_line,
    gate_lines,
    integer_gates,
    make_gate,
    onnx_gate,
    op_gate,
    size_gate,
)


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


def test_a_gate_carries_its_failure_message_only_when_it_fails() -> None:
    assert make_gate("drop", 0.2, 0.5, "<=", failure="too much")["failure"] is None
    assert make_gate("drop", 0.62, 0.5, "<=", failure="too much")["failure"] == "too much"
    # without a message of its own, a failed gate's message is its line
    assert make_gate("drop", 0.62, 0.5, "<=", unit="pp", digits=2)["failure"] == "drop 0.62 pp <= 0.50 pp  FAIL"


@pytest.mark.parametrize("diff", [float("nan"), float("inf")])
def test_a_non_finite_onnx_difference_fails_its_gate_in_strict_json(diff: float) -> None:
    gate = onnx_gate(diff, 3.0)
    assert gate["passed"] is False and gate["measured"] == str(diff)
    assert "non-finite" in gate["failure"]
    assert json.loads(json.dumps(gate, allow_nan=False)) == gate
    assert gate_line(gate).endswith("FAIL")


def test_onnx_gate_bound_grows_with_the_logits() -> None:
    assert onnx_gate(2e-4, 0.5)["passed"] is False  # 1e-4 absolute for small logits
    assert onnx_gate(2e-4, 3.0)["passed"] is True  # 1e-4 x the largest logit beyond 1
    assert onnx_gate(5e-4, 3.0)["failure"] == ("ONNX Runtime differs from PyTorch by 5.00e-04 (> 0.0001 x "
                                               "max(1, largest logit 3))")


def test_failures_are_the_failed_gates_messages_with_their_hints() -> None:
    io = {"input": {"type": "FLOAT32"}, "output": {"type": "INT8"}}
    gates = [*integer_gates({"INT8": 10, "FLOAT32": 2}, io), op_gate({"CONV_2D": 3, "EXP": 1, "SIGN": 2}),
             size_gate(130_000, 128_000, {"weights": 100_000, "quantisation_parameters": 30_000})]
    assert [g["measured"] for g in gates] == [2, 1, 3, 130_000]
    assert failures(gates) == [
        "non-integer tensors (FLOAT32): part of the graph fell back to float",
        "the input tensor is FLOAT32, not INT8",
        "operators outside the TFLite Micro builtin allow-list: EXP, SIGN",
        "the int8 file is 130,000 bytes, over the 128,000-byte budget by 2,000 (bytes: weights 100,000, "
        "quantisation parameters 30,000); use a smaller preset or prune (asc-train --init M.pt "
        "--prune-structured F)",
    ]
    int16_io = {"input": {"type": "INT16"}, "output": {"type": "INT16"}}
    assert failures(integer_gates({"INT16": 4, "INT64": 1}, int16_io, "int16")) == []


def test_failed_fidelity_gates_make_one_message_with_the_qat_and_int16_hint() -> None:
    fidelity = {"top1_agreement": 0.9, "accuracy_drop_pp": 1.25, "log_loss_increase": 0.01}
    gates = fidelity_gates(fidelity, 0.99, 0.5, 0.05)
    assert [g["passed"] for g in gates] == [False, False, True]
    assert export_failures(gates) == [
        "fidelity gate: top-1 agreement 90.0 % < 99.0 %, macro-accuracy drop 1.25 pp > 0.5 pp; this float "
        "checkpoint (asc-train --no-qat) is compared with its float model: train with asc-train's default QAT epochs "
        "(--qat-epochs), whose int8 ranges reach the file, or export int16 activations (asc-export --activations "
        "int16) (or relax --min-agreement / --max-drop / --max-log-loss-increase)"]
    assert "own int8 simulation" in export_failures(gates, simulated=True)[0]
    assert "--activations int16" not in export_failures(gates, "int16")[0]
    assert export_failures(fidelity_gates({**fidelity, "top1_agreement": 1.0, "accuracy_drop_pp": 0.0},
                                          0.99, 0.5, 0.05)) == []
