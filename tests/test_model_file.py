"""A model file that is what it says: the digest, the struct validator, the model card's fields, the first load
in a child process, ``--info`` and the fuzzer — on the real packaged model, read by the real LiteRT."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.export.flatbuffer import _pack, _unpack, embed_model_card
from asc_edge.modelfile.digest import DIGEST_FIELD, check_digest, file_digest, seal
from asc_edge.modelfile.flatbuffer_reader import buffer_spans, card_span, read_metadata
from asc_edge.modelfile.read import read_model_card
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.plumbing.errors import ModelFileError
from asc_edge.runtime.listen_cli import main as listen_main
from asc_edge.runtime.packaged import default_model_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _private_probe_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test module's first loads really run the child-process probe (not a cache from an earlier run)."""
    monkeypatch.setenv("ASC_EDGE_CACHE", str(tmp_path_factory.getbasetemp() / "probe-cache"))


@pytest.fixture(scope="module")
def packaged() -> bytes:
    with default_model_path() as path:
        return path.read_bytes()


@pytest.fixture(scope="module")
def card(packaged: bytes) -> dict:
    return json.loads(read_metadata(packaged)["asc_edge"])


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    soundfile.write(path, (0.1 * np.random.default_rng(0).standard_normal(80000)).astype(np.float32), 16000)
    return path


def _listen(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = run_cli(listen_main, args, prog="asc-listen")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_digest_covers_every_byte_and_refuses_any_one_byte_change(packaged: bytes) -> None:
    digest = check_digest(packaged)
    assert read_model_card(packaged).to_dict()[DIGEST_FIELD] == digest == file_digest(packaged)
    start, length = card_span(packaged)
    # positions spread over the whole file, plus every byte of the card (labels, frontend, the digest itself)
    positions = sorted({*range(0, len(packaged), 53), *range(start, start + length), len(packaged) - 1})
    for position in positions:
        damaged = bytearray(packaged)
        damaged[position] ^= 0x01
        with pytest.raises(ModelFileError, match="damaged"):
            read_model_card(bytes(damaged), "m")
    for shortened in (packaged[:-1], packaged + b"\0", packaged[: len(packaged) // 3]):
        with pytest.raises(ModelFileError, match="damaged"):
            read_model_card(shortened, "m")


def test_sealing_is_the_last_step_and_is_reproducible(packaged: bytes, card: dict) -> None:
    assert seal(packaged) == packaged  # sealing a sealed file changes nothing
    resealed = embed_model_card(packaged, card)  # re-embedding replaces the card, keeps one copy
    assert read_model_card(resealed).to_dict() == {**card, DIGEST_FIELD: file_digest(resealed)}
    assert [m.name for m in _unpack(resealed).metadata].count(b"asc_edge") == 1
    assert embed_model_card(resealed, card) == resealed  # the same inputs give the same bytes


def test_a_file_without_a_digest_is_refused_with_a_line_saying_to_export_again(
        packaged: bytes, card: dict, tmp_path: Path, wav: Path, capsys: pytest.CaptureFixture) -> None:
    model = _unpack(packaged)
    entry = next(m for m in model.metadata if m.name == b"asc_edge")
    old_card = {k: v for k, v in card.items() if k != DIGEST_FIELD}
    model.buffers[entry.buffer].data = np.frombuffer(json.dumps(old_card).encode(), dtype=np.uint8)
    old = tmp_path / "old.tflite"
    old.write_bytes(_pack(model))
    code, out, err = _listen([str(wav), "--model", str(old)], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "no file_sha256 digest" in err and "export it again" in err and str(old) in err


def _crafted(packaged: bytes, card: dict, edit) -> bytes:
    """The packaged model edited through the schema's object API, then sealed as export would: a file whose
    digest is right but whose structure lies (only the struct checks can catch it)."""
    model = _unpack(packaged)
    edit(model)
    return embed_model_card(_pack(model), card)


def _first_op(model):
    return model.subgraphs[0].operators[0]


def _set_item(owner, attribute: str, index: int, value: int) -> None:
    """``owner.attribute[index] = value`` on a copy (the object API's arrays are read-only views)."""
    array = np.array(getattr(owner, attribute))
    array[index] = value
    setattr(owner, attribute, array)


def _bias_zero_point(model) -> None:
    """An int32 bias with zero points 2^27 (the spec says 0; LiteRT's XNNPACK delegate refuses it)."""
    bias = next(t for t in model.subgraphs[0].tensors if t.type == 2 and t.quantization is not None
                and t.quantization.zeroPoint is not None and len(t.quantization.zeroPoint) > 1)
    bias.quantization.zeroPoint = np.full_like(bias.quantization.zeroPoint, 1 << 27)


def _custom(model) -> None:
    model.operatorCodes[0].builtinCode = model.operatorCodes[0].deprecatedBuiltinCode = 32


STRUCTURE_CASES = {
    "operator input out of range": (lambda m: _set_item(_first_op(m), "inputs", 0, 10_000), "names a tensor"),
    "operator output out of range": (lambda m: _set_item(_first_op(m), "outputs", 0, -1), "names a tensor"),
    "opcode index out of range": (lambda m: setattr(_first_op(m), "opcodeIndex", 99), "operator code"),
    "a weight shorter than its shape": (
        lambda m: setattr(m.buffers[m.subgraphs[0].tensors[_first_op(m).inputs[1]].buffer], "data",
                          np.zeros(3, dtype=np.uint8)), "buffer holds 3 bytes"),
    "a tensor shape that does not fit its buffer": (
        lambda m: setattr(m.subgraphs[0].tensors[_first_op(m).inputs[1]], "shape", [3]), "buffer holds"),
    "a tensor of 64 M elements": (
        lambda m: setattr(m.subgraphs[0].tensors[_first_op(m).inputs[1]], "shape", [1 << 12, 1 << 12, 4]),
        "67108864 elements"),
    "two subgraphs": (lambda m: m.subgraphs.append(m.subgraphs[0]), "2 subgraphs"),
    "an input read before it is written": (
        lambda m: m.subgraphs[0].operators.reverse(), "before any operator writes it"),
    "options of another operator": (lambda m: setattr(_first_op(m), "builtinOptionsType", 99), "options"),
    "a custom operator": (_custom, "not a builtin"),
    "two model inputs": (lambda m: setattr(m.subgraphs[0], "inputs", [0, 1]), "inputs"),
    "a zero quantisation scale": (
        lambda m: setattr(m.subgraphs[0].tensors[m.subgraphs[0].inputs[0]].quantization, "scale",
                          np.zeros(1, dtype=np.float32)), "scale"),
    "a buffer outside the flatbuffer": (lambda m: setattr(m.buffers[1], "offset", 1 << 40), "outside"),
    "a non-zero bias zero point": (_bias_zero_point, "zero point"),
}


@pytest.mark.parametrize("case", sorted(STRUCTURE_CASES))
def test_struct_validator_refuses_what_the_interpreter_would_dereference(
        case: str, packaged: bytes, card: dict, tmp_path: Path, wav: Path, capsys: pytest.CaptureFixture) -> None:
    edit, expected = STRUCTURE_CASES[case]
    bad = tmp_path / "crafted.tflite"
    bad.write_bytes(_crafted(packaged, card, edit))
    code, out, err = _listen([str(wav), "--model", str(bad)], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert expected in err and str(bad) in err


CARD_CASES = {
    "negative window": (lambda c: c["window"].update(samples=-5), "window.samples"),
    "huge window": (lambda c: c["window"].update(samples=10 ** 12), "window.samples"),
    "n_fft 2^40": (lambda c: c["frontend_config"].update(n_fft=2 ** 40), "frontend_config.n_fft"),
    "labels as a string": (lambda c: c.update(labels="airport,bus"), "labels"),
    "duplicate labels": (lambda c: c["labels"].__setitem__(1, c["labels"][0]), "labels"),
    "one label too many": (lambda c: c["labels"].append("extra"), "labels"),
    "one label too few": (lambda c: c["labels"].pop(), "labels"),
    "frontend_config a string": (lambda c: c.update(frontend_config="nope"), "frontend_config"),
    "frontend window unknown": (lambda c: c["frontend_config"].update(window="kaiser"), "frontend_config.window"),
    "sample rate a boolean": (lambda c: c["frontend_config"].update(sample_rate=True), "frontend_config.sample_rate"),
    "hop NaN": (lambda c: c["frontend_config"].update(hop_length=float("nan")), "frontend_config.hop_length"),
    "frames that do not match": (lambda c: c["window"].update(n_frames=c["window"]["n_frames"] + 1),
                                 "window.n_frames"),
    "fmax above Nyquist": (lambda c: c["frontend_config"].update(fmax=12000.0), "frontend_config"),
    "window missing": (lambda c: c.pop("window"), "window"),
}


@pytest.mark.parametrize("case", sorted(CARD_CASES))
def test_model_card_fields_are_checked_one_by_one(case: str, packaged: bytes, card: dict, tmp_path: Path,
                                                  wav: Path, capsys: pytest.CaptureFixture) -> None:
    edit, field = CARD_CASES[case]
    bad_card = json.loads(json.dumps(card))
    edit(bad_card)
    bad = tmp_path / "card.tflite"
    bad.write_bytes(embed_model_card(packaged, bad_card))
    code, out, err = _listen([str(wav), "--model", str(bad)], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"field '{field}'" in err and str(bad) in err


def test_an_interpreter_refusal_in_the_child_process_is_one_line(packaged: bytes, card: dict, tmp_path: Path,
                                                                 wav: Path, capsys: pytest.CaptureFixture) -> None:
    # A convolution filter stored without quantisation: a consistent flatbuffer the struct checks pass, but
    # LiteRT refuses an int8 conv whose filter is not affine-quantised. The first load, in a child process,
    # turns that into a line naming the file.
    def edit(model) -> None:
        conv = next(op for op in model.subgraphs[0].operators if model.operatorCodes[op.opcodeIndex].builtinCode == 3)
        model.subgraphs[0].tensors[conv.inputs[1]].quantization = None

    bad = tmp_path / "refused.tflite"
    bad.write_bytes(_crafted(packaged, card, edit))
    read_model_card(bad.read_bytes())  # the static checks pass it: only a load can tell
    code, out, err = _listen([str(wav), "--model", str(bad)], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "interpreter refused the model" in err and str(bad) in err


def test_info_applies_the_same_checks_as_a_load(packaged: bytes, card: dict, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    from asc_edge.export.cli import main as export_main

    damaged = bytearray(packaged)
    damaged[len(damaged) // 2] ^= 0x10
    crafted = _crafted(packaged, card, STRUCTURE_CASES["an input read before it is written"][0])
    for name, data, expected in [("damaged.tflite", bytes(damaged), "the model file is damaged"),
                                 ("crafted.tflite", crafted, "before any operator writes it")]:
        path = tmp_path / name
        path.write_bytes(data)
        code = run_cli(export_main, ["--info", str(path)], prog="asc-export")
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err and name in err


def test_fuzzed_models_never_crash_hang_or_answer_differently_unannounced() -> None:
    # Bounded: 60 one-byte changes, 60 one-bit flips (damaged, as on a bad SD card), and 8 + 8 mutations of
    # the structure with the digest recomputed (only the struct checks and the child-process load stand
    # between those and the interpreter). Measured ~10 s on 2 shared cores.
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "model_fuzz.py"), "--bytes", "60", "--bits",
                           "60", "--resealed", "8", "--seed", "1", "--json"], capture_output=True, text=True,
                          timeout=300)
    results = json.loads(done.stdout)
    for name in ("damaged byte", "damaged bit"):
        assert results[name]["refused"] == results[name]["mutations"] == 60, results[name]
    for name in ("resealed byte", "resealed bit"):
        r = results[name]
        assert r["crashed"] == r["hung"] == 0 and r["refused"] + r["identical"] + r["different"] == 8, r
    assert done.returncode == 0, done.stderr[-2000:]


def test_buffer_spans_lie_in_the_file_and_include_the_card(packaged: bytes) -> None:
    spans = buffer_spans(packaged)  # what the fuzzer's "structure" mutations avoid
    assert all(0 <= start and start + length <= len(packaged) for start, length in spans)
    assert card_span(packaged) in spans and 0 < sum(length for _, length in spans) < len(packaged)


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed")
def test_tensorflow_backend_gives_the_same_probabilities_as_litert(wav: Path, capsys: pytest.CaptureFixture) -> None:
    # TensorFlow in a child process (its import is slow and heavy), LiteRT in this one, the same CLI
    done = subprocess.run([sys.executable, "-m", "asc_edge.runtime.listen_cli", str(wav), "--format", "jsonl",
                           "--backend", "tensorflow"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]  # TensorFlow's log noise silenced
    code, litert, _ = _listen([str(wav), "--format", "jsonl", "--backend", "litert"], capsys)
    assert code == 0
    probabilities = [[json.loads(line)["probabilities"] for line in out.splitlines()] for out in (done.stdout, litert)]
    assert probabilities[0] == probabilities[1]  # measured: bit-identical int8 kernels on this model
