"""Compaction: fewer bytes, the same model, on the real LiteRT (default and reference kernels) and TFLite Micro."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from asc_edge.export.compact import compact
from asc_edge.export.flatbuffer import _schema, _unpack, embed_model_card, size_breakdown
from asc_edge.modelfile.flatbuffer_reader import CARD_NAME
from asc_edge.modelfile.read import read_model_card
from asc_edge.modelfile.structure import validate
from asc_edge.runtime.default_model import __file__ as _default_model_init

PACKAGED = Path(_default_model_init).with_name("synth_student_int8.tflite")


@pytest.fixture(scope="module")
def plain() -> tuple[bytes, dict]:
    """The packaged model as the converter's plain serialiser writes it (every vector its own copy, an empty
    buffer per activation), without its card: what the export pipeline hands to ``compact``."""
    data = PACKAGED.read_bytes()
    card = read_model_card(data).to_dict()
    model = _unpack(data)
    model.metadata = [m for m in model.metadata if m.name not in (CARD_NAME, CARD_NAME.encode())]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), card


def _features(data: bytes, n: int = 8) -> np.ndarray:
    shape = _unpack(data).subgraphs[0].tensors[_unpack(data).subgraphs[0].inputs[0]].shape
    return np.random.default_rng(1).normal(-3.0, 2.0, size=(n, 1, int(shape[1]), int(shape[2]))).astype(np.float32)


def _litert(data: bytes, features: np.ndarray, reference_kernels: bool) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference_kernels else {}
    interpreter = Interpreter(model_content=data, **kwargs)  # runs LiteRT's flatbuffer verifier first
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    scale, zero = inp["quantization"]
    outputs = []
    for x in features:
        interpreter.set_tensor(inp["index"], np.clip(np.round(x.transpose(1, 2, 0)[None] / scale + zero),
                                                     -128, 127).astype(np.int8))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out["index"]).copy())
    return np.concatenate(outputs)


def test_compaction_shrinks_the_student_below_58000_bytes(plain: tuple[bytes, dict]) -> None:
    data, _ = plain
    small = compact(data)
    before, after = size_breakdown(data), size_breakdown(small)
    assert len(small) <= 58_000 < len(data)
    # Same weights and biases; the savings are in shared quantisation vectors and structure.
    assert after["weights"] == before["weights"] and after["biases"] == before["biases"]
    assert after["quantisation_parameters"] < before["quantisation_parameters"] - 10_000
    assert after["structure"] < before["structure"]
    validate(small)  # the struct-only reader of the runtime still walks every reference
    assert len(compact(small)) == len(small)  # nothing left to share


def test_compacted_outputs_are_bit_identical_on_litert_and_tflite_micro(plain: tuple[bytes, dict]) -> None:
    pytest.importorskip("tflite_micro", reason="tflite-micro is not installed (pip install 'asc-edge[export]')")
    from asc_edge.export import tflm

    data, _ = plain
    small = compact(data)
    features = _features(data)
    for reference_kernels in (False, True):
        np.testing.assert_array_equal(_litert(small, features, reference_kernels),
                                      _litert(data, features, reference_kernels))
    np.testing.assert_array_equal(tflm.load(small).run(features), tflm.load(data).run(features))


def test_identical_zero_points_are_stored_once(plain: tuple[bytes, dict]) -> None:
    small = compact(plain[0])
    root = _schema().Model.GetRootAs(small, 0)
    subgraph = root.Subgraphs(0)
    positions: dict[int, set[int]] = {}  # zero-point vector length -> where such all-zero vectors are stored
    for t in range(subgraph.TensorsLength()):
        q = subgraph.Tensors(t).Quantization()
        offset = q._tab.Offset(10) if q is not None else 0  # zero_point
        if offset and q._tab.VectorLen(offset) > 1 and not q.ZeroPointAsNumpy().any():
            positions.setdefault(q._tab.VectorLen(offset), set()).add(q._tab.Vector(offset))
    assert positions and all(len(where) == 1 for where in positions.values()), positions


def test_the_card_embedded_after_compaction_keeps_it_compact(plain: tuple[bytes, dict]) -> None:
    data, card = plain
    small = compact(data)
    sealed = embed_model_card(small, card)
    assert len(sealed) < len(small) + 2_000  # the card's bytes, not a re-expanded file
    assert read_model_card(sealed).to_dict()["labels"] == card["labels"]
    features = _features(data, 3)
    np.testing.assert_array_equal(_litert(sealed, features, False), _litert(data, features, False))


def test_buffer_data_stays_16_byte_aligned(plain: tuple[bytes, dict]) -> None:
    # The schema declares Buffer.data force_align: 16; MCU kernels load int32 biases from it.
    root = _schema().Model.GetRootAs(compact(plain[0]), 0)
    for b in range(root.BuffersLength()):
        buffer = root.Buffers(b)
        offset = buffer._tab.Offset(4)
        if offset and buffer._tab.VectorLen(offset):
            assert buffer._tab.Vector(offset) % 16 == 0


def test_max_preset_fits_the_128000_byte_budget_on_the_dcase_profile(plain: tuple[bytes, dict],
                                                                      tmp_path: Path) -> None:
    # The max preset's design claim (presets.py), checked on a real export: ONNX -> onnx2tf -> int8, names
    # stripped, compacted, card embedded. Bytes depend on the graph, not on weight values, so the model is
    # untrained and calibrated on seeded noise (fine for bytes only; never for a real export's fidelity).
    from asc_edge.audio.profiles import get_profile
    from asc_edge.export.flatbuffer import strip_tensor_names
    from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
    from asc_edge.export.onnx_file import write_onnx
    from asc_edge.export.pipeline import model_card
    from asc_edge.export.prepare import split_input_norm
    from asc_edge.train.fold import fold_subspectral_norms
    from asc_edge.train.models import BCResNetMod
    from asc_edge.train.presets import PRESETS, preset_config

    shape = (256, 431)  # dcase profile, 10 s
    config = preset_config("max", shape[0], 10)
    model, preprocessing = split_input_norm(fold_subspectral_norms(BCResNetMod(config).eval()))
    write_onnx(model, shape, tmp_path / "max.onnx")
    noise = np.random.default_rng(0).normal(-4.0, 2.0, (4, 1, *shape)).astype(np.float32)
    raw = saved_model_to_int8(onnx_to_saved_model(tmp_path / "max.onnx", tmp_path / "saved"), noise)
    checkpoint = {"frontend_config": get_profile("dcase").to_dict(), "input_shape": list(shape),
                  "labels": plain[1]["labels"], "preset": "max", "model_config": config.to_dict()}
    card = model_card(checkpoint, b"untrained", preprocessing)  # the card asc-export writes for it
    final = embed_model_card(compact(strip_tensor_names(raw)), card)
    assert len(final) <= PRESETS["max"].max_tflite_bytes
    assert len(final) > 0.9 * PRESETS["max"].max_tflite_bytes  # it does fill the budget
