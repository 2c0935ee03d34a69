"""The faithful-int8 levers' mechanics on a trained tiny model, with the real converter and interpreters:
the input ResNorm moved to float32 features is exact in float, percentile ranges really reach the file, and
int16 activations are opt-in and run on LiteRT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from asc_edge.audio.input_norm import apply_input_resnorm, check_input_resnorm_spec
from asc_edge.export.prepare import exportable_model, graph_inputs, split_input_norm
from asc_edge.train.checkpoint import load_checkpoint, model_from_checkpoint
from asc_edge.train.models import ResNorm


@pytest.fixture(scope="module")
def levers(tiny_synth: Path, tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from asc_edge.audio.profiles import get_profile
    from asc_edge.export.int8 import onnx_to_saved_model
    from asc_edge.export.onnx_file import write_onnx
    from asc_edge.train.data import load_training_data

    root = tmp_path_factory.mktemp("levers")
    checkpoint = load_checkpoint(tiny_checkpoint)
    model, spec = split_input_norm(exportable_model(checkpoint))
    data = load_training_data(tiny_synth, get_profile("small"), root / "cache", progress=False)
    features = data.batch(data.train.rows[:48]).numpy()
    write_onnx(model, tuple(checkpoint["input_shape"]), root / "model.onnx")
    saved = onnx_to_saved_model(root / "model.onnx", root / "saved")
    return {"checkpoint": checkpoint, "graph": model, "spec": spec, "features": features, "saved": saved}


@pytest.mark.parametrize("mode", ["instance", "frequency"])
def test_numpy_input_resnorm_equals_the_torch_layer(mode: str) -> None:
    x = np.random.default_rng(0).normal(-8, 3, size=(3, 1, 40, 31)).astype(np.float32)
    layer = ResNorm(mode, lam=0.1, channels=1, eps=1e-5)
    expected = layer(torch.from_numpy(x)).numpy()
    got = apply_input_resnorm(x, {"mode": mode, "lambda": 0.1, "eps": 1e-5})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(apply_input_resnorm(x[1, 0], {"mode": mode, "lambda": 0.1, "eps": 1e-5}),
                               expected[1, 0], rtol=1e-5, atol=1e-5)  # one window, as the runtime calls it


def test_float_preprocessing_plus_graph_equals_the_whole_model_in_float(levers: dict) -> None:
    reference = model_from_checkpoint(levers["checkpoint"])
    x = levers["features"][:8]
    assert levers["spec"] == {"mode": "instance", "lambda": 0.1, "eps": reference.config.resnorm_eps}
    assert isinstance(levers["graph"].input_norm, torch.nn.Identity)  # the graph no longer normalises
    with torch.no_grad():
        whole = reference(torch.from_numpy(x)).numpy()
        split = levers["graph"](torch.from_numpy(graph_inputs(x, levers["spec"]))).numpy()
    np.testing.assert_allclose(split, whole, rtol=1e-4, atol=1e-4)


def test_a_bad_preprocessing_entry_is_named() -> None:
    for bad, field in (({"mode": "batch", "lambda": 0.1, "eps": 1e-5}, "mode"),
                       ({"mode": "instance", "lambda": "x", "eps": 1e-5}, "lambda"),
                       ({"mode": "instance", "lambda": 0.1, "eps": 0.0}, "eps"), ("nope", "object")):
        with pytest.raises(ValueError, match=field):
            check_input_resnorm_spec(bad)


def _scales_by_name(tflite: bytes) -> dict[str, float]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite)
    return {d["name"]: d["quantization"][0] for d in interpreter.get_tensor_details()
            if d["dtype"] == np.int8 and d["quantization"][0] > 0}


def test_percentile_ranges_reach_the_file(levers: dict) -> None:
    from asc_edge.export.int8 import saved_model_to_int8

    calibration = graph_inputs(levers["features"], levers["spec"])
    minmax = _scales_by_name(saved_model_to_int8(levers["saved"], calibration, ranges="minmax"))
    clipped = _scales_by_name(saved_model_to_int8(levers["saved"], calibration, ranges="percentile"))
    shared = sorted(set(minmax) & set(clipped))
    assert len(shared) > 10  # the same activation tensors, by name
    ratios = np.array([clipped[name] / minmax[name] for name in shared])
    # No range widens (beyond rounding); clipping the tails narrows most of them.
    assert (ratios <= 1.0 + 1e-3).all()
    assert (ratios < 0.99).mean() > 0.5


def test_int16_activations_are_opt_in_and_run(levers: dict) -> None:
    from ai_edge_litert.interpreter import Interpreter

    from asc_edge.export.fidelity import int8_logits
    from asc_edge.export.flatbuffer import io_details, tensor_types
    from asc_edge.export.gates import failures, integer_gates
    from asc_edge.export.int8 import saved_model_to_int8

    x = graph_inputs(levers["features"][:6], levers["spec"])
    tflite = saved_model_to_int8(levers["saved"], graph_inputs(levers["features"], levers["spec"]),
                                 activations="int16")
    interpreter = Interpreter(model_content=tflite)
    assert interpreter.get_input_details()[0]["dtype"] == np.int16
    io, types = io_details(tflite), tensor_types(tflite)
    assert failures(integer_gates(types, io, "int16")) == []
    assert failures(integer_gates(types, io, "int8"))  # an int8 gate would refuse it: int16 is never implicit
    with torch.no_grad():
        reference = levers["graph"](torch.from_numpy(x)).numpy()
    logits = int8_logits(tflite, x)
    assert np.abs(logits - reference).max() < 0.05 * max(1.0, np.abs(reference).max())


@pytest.mark.parametrize("flag, value", [("--min-agreement", "1.5"), ("--min-agreement", "-0.1"),
                                          ("--max-drop", "101"), ("--max-drop", "-1"),
                                          ("--max-log-loss-increase", "nan"), ("--activations", "int4"),
                                          ("--ranges", "median")])
def test_gate_and_lever_flags_out_of_range_are_one_line(flag: str, value: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"never read: the flags are refused first")
    done = subprocess.run([sys.executable, "-m", "asc_edge.export.cli", str(checkpoint), flag, value],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert flag in done.stderr.strip().splitlines()[-1]
