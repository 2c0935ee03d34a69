"""The export core on a trained checkpoint, read back with the real ONNX Runtime and LiteRT interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asc_edge.export.flatbuffer import io_details, op_histogram, strip_tensor_names
from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
from asc_edge.export.onnx_file import onnx_max_abs_diff, write_onnx
from asc_edge.export.prepare import exportable_model
from asc_edge.train.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def tiny_export(tiny_synth: Path, tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The trained tiny checkpoint through ONNX -> SavedModel -> int8 (the slow part, done once)."""
    from asc_edge.audio.profiles import get_profile
    from asc_edge.train.data import load_training_data

    root = tmp_path_factory.mktemp("export")
    checkpoint = load_checkpoint(tiny_checkpoint)
    model = exportable_model(checkpoint)
    data = load_training_data(tiny_synth, get_profile("small"), root / "cache", progress=False)
    calibration = data.batch(data.train.rows).numpy()
    held_out = data.batch(data.evaluate.rows[:40]).numpy()
    onnx_path = root / "model.onnx"
    write_onnx(model, tuple(checkpoint["input_shape"]), onnx_path)
    tflite = saved_model_to_int8(onnx_to_saved_model(onnx_path, root / "saved"), calibration)
    return {"model": model, "onnx": onnx_path, "tflite": tflite, "held_out": held_out}


def _run_int8(tflite: bytes, inputs: np.ndarray) -> np.ndarray:
    from asc_edge.export.fidelity import int8_logits

    return int8_logits(tflite, inputs)


def test_onnx_matches_pytorch(tiny_export: dict) -> None:
    diff, largest_logit = onnx_max_abs_diff(tiny_export["model"], tiny_export["onnx"], tiny_export["held_out"][:8])
    assert diff < 1e-4 * max(1.0, largest_logit)


def test_int8_file_is_full_integer_with_builtin_ops_only(tiny_export: dict) -> None:
    ops = op_histogram(tiny_export["tflite"])
    assert not {"QUANTIZE", "DEQUANTIZE"} & set(ops), ops
    assert not any(name.startswith("CUSTOM") for name in ops)
    io = io_details(tiny_export["tflite"])
    assert io["input"]["type"] == io["output"]["type"] == "INT8"
    logits = _run_int8(tiny_export["tflite"], tiny_export["held_out"][:4])
    assert logits.shape == (4, 10) and np.isfinite(logits).all()


def test_stripping_names_shrinks_the_file_and_keeps_outputs(tiny_export: dict) -> None:
    stripped = strip_tensor_names(tiny_export["tflite"])
    assert len(stripped) < len(tiny_export["tflite"]) - 4000
    inputs = tiny_export["held_out"][:6]
    np.testing.assert_array_equal(_run_int8(stripped, inputs), _run_int8(tiny_export["tflite"], inputs))


def test_tiny_preset_fits_its_64000_byte_budget_once_stripped(tiny_export: dict) -> None:
    # The preset's design claim (presets.py), checked on a real export rather than estimated.
    assert len(strip_tensor_names(tiny_export["tflite"])) <= 64_000
