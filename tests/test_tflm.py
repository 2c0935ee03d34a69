"""The int8 file on TFLite Micro's real interpreter (the ``tflite-micro`` wheel), against LiteRT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asc_edge.export import tflm
from asc_edge.export.cli import main
from asc_edge.export.flatbuffer import _pack, _schema, _unpack, activation_memory, embed_model_card
from asc_edge.export.tflm import tflm_report
from asc_edge.modelfile.read import read_model_card
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.default_model import __file__ as _default_model_init

PACKAGED = Path(_default_model_init).with_name("synth_student_int8.tflite")
pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'asc-edge[export]')")


def _features(n: int, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Log-mel-like inputs (natural-log energies around -3) for comparing two interpreters on the same file."""
    rng = np.random.default_rng(seed)
    return rng.normal(-3.0, 2.0, size=(n, 1, *shape)).astype(np.float32)


def _with_opcode(data: bytes, old: str, new: str) -> bytes:
    """The same file with every ``old`` operator declared as ``new`` (a file LiteRT accepts, TFLM not)."""
    schema = _schema()
    model = _unpack(data)
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == getattr(schema.BuiltinOperator, old):
            code.builtinCode = getattr(schema.BuiltinOperator, new)
            code.deprecatedBuiltinCode = min(127, code.builtinCode)  # 127: "see builtin_code"
    return _pack(model)


def test_tflm_runs_the_packaged_file_bit_exact_with_litert_reference_kernels() -> None:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    data = PACKAGED.read_bytes()
    model = tflm.load(data)
    details = model.interpreter.get_input_details(0)
    features = _features(6, tuple(int(v) for v in details["shape"][1:3]))
    got = model.run(features)
    reference = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    reference.allocate_tensors()
    (inp,), (out,) = reference.get_input_details(), reference.get_output_details()
    scale, zero = inp["quantization"]
    for x, q in zip(features, got):
        reference.set_tensor(inp["index"], np.clip(np.round(x.transpose(1, 2, 0)[None] / scale + zero),
                                                   -128, 127).astype(np.int8))
        reference.invoke()
        np.testing.assert_array_equal(q, reference.get_tensor(out["index"])[0])
    assert len(set(map(bytes, got))) > 1  # different inputs, different outputs: the model really ran


def test_measured_arena_is_parsed_and_holds_the_live_activations() -> None:
    data = PACKAGED.read_bytes()
    arena = tflm.load(data).arena
    estimate = activation_memory(data)["peak_activation_bytes"]
    assert arena["total_bytes"] == arena["head_bytes"] + arena["tail_bytes"]
    # The greedy planner places the activations (head) plus TFLM's own structures (tail).
    assert estimate <= arena["head_bytes"] < arena["total_bytes"] < 2 * estimate + 64_000
    assert arena["sections"]["NodeAndRegistration struct"] > 0


def test_an_operator_tflm_lacks_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from ai_edge_litert.interpreter import Interpreter

    bad = _with_opcode(PACKAGED.read_bytes(), "AVERAGE_POOL_2D", "SIGN")
    Interpreter(model_content=bad).allocate_tensors()  # LiteRT accepts the file ...
    assert tflm.problem(bad) == "TFLite Micro has no kernel for operator SIGN"  # ... TFLM does not
    path = tmp_path / "sign.tflite"
    # re-sealed: only the op differs
    path.write_bytes(embed_model_card(bad, read_model_card(PACKAGED.read_bytes()).to_dict()))
    assert run_cli(main, ["--info", str(path)], prog="asc-export") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "SIGN" in err and "Traceback" not in err, err


def test_a_kernel_that_refuses_the_types_is_one_line_naming_the_operator() -> None:
    # TFLM's EXP is float only: LiteRT runs an int8 EXP, TFLM fails it in Prepare.
    line = tflm.problem(_with_opcode(PACKAGED.read_bytes(), "AVERAGE_POOL_2D", "EXP"))
    assert line is not None and line.startswith("TFLite Micro's EXP kernel") and "\n" not in line, line


def test_info_prints_the_measured_arena(capsys: pytest.CaptureFixture) -> None:
    assert run_cli(main, ["--info", str(PACKAGED)], prog="asc-export") == 0
    out = capsys.readouterr().out
    measured = tflm.load(PACKAGED.read_bytes()).arena["total_bytes"]
    assert f"TFLite Micro measured {measured:,} bytes" in out


def test_tflm_report_compares_both_interpreters_on_an_even_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    data = PACKAGED.read_bytes()
    monkeypatch.setattr(tflm, "MAX_CLIPS", 4)  # a big evaluate fold is subsampled the same way
    shape = tuple(int(v) for v in tflm.load(data).interpreter.get_input_details(0)["shape"][1:3])
    features = _features(9, shape, seed=2)
    reference = np.random.default_rng(3).normal(size=(9, 10)).astype(np.float32)
    labels, devices = np.arange(9) % 10, ["a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6"]
    report, problem = tflm_report(data, features, reference, labels, devices, 10, 0)
    assert problem is None and report["runs"] and report["clips_run"] == 4 and report["clips_total"] == 9
    assert report["fidelity_tflm"]["clips"] == report["fidelity_litert"]["clips"] == 4
    assert report["arena_measured_bytes"] == tflm.load(data).arena["total_bytes"]
    assert 0 <= report["clips_identical_to_litert"] <= 4 and report["max_diff_vs_litert_lsb"] >= 0
