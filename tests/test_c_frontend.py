"""The C frontend ``asc-export --c-array`` writes, against the Python frontend: on the host (system C compiler,
also under ASan/UBSan), through TFLite Micro's decisions, and on an emulated Cortex-M4F (QEMU mps2-an386).

Figures are printed (``pytest -s``); firmware_notes/microcontrollers.md quotes a run of this file."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

import c_build
from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.input_norm import apply_input_resnorm
from asc_edge.audio.io import read_audio
from asc_edge.data.tau import load_tau
from asc_edge.export.cli import main
from asc_edge.export.tflm import load as tflm_load
from asc_edge.modelfile.quantization import quantize
from asc_edge.modelfile.read import read_model_file
from asc_edge.plumbing.cli_util import run_cli

RELAXED = ["--min-agreement", "0", "--max-drop", "100", "--max-log-loss-increase", "100"]
C_FILES = ("asc_frontend.c", "asc_frontend.h", "asc_features_main.c", "model_int8.h", "model_int8.cc")
DCASE_SYNTH = {"clips_per_class": 6, "duration": 1.0, "sample_rate": 44100, "seed": 5}
needs_cmsis = pytest.mark.skipif(c_build.cmsis_missing() is not None, reason=str(c_build.cmsis_missing()))


@dataclass
class Exported:
    out: Path
    data: Path
    tflite: bytes
    card: dict


def _export(checkpoint: Path, data: Path, out: Path, extra: list[str] | None = None) -> Exported:
    code = run_cli(main, [str(checkpoint), "-o", str(out), "--calib", str(data), "--c-array",
                          "--calibration-clips", "32", "--quiet", *RELAXED, *(extra or [])], prog="asc-export")
    assert code == 0
    tflite, card = read_model_file(out / "model_int8.tflite")
    return Exported(out, data, tflite, card.to_dict())


@pytest.fixture(scope="module")
def small(tiny_checkpoint: Path, tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _export(tiny_checkpoint, tiny_synth, tmp_path_factory.mktemp("c_small") / "out")


@pytest.fixture(scope="module")
def small_graph_norm(tiny_checkpoint: Path, tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The same model with its input ResNorm in the graph: the C frontend then keeps int8 frames."""
    # percentile ranges: a checkpoint's recorded ranges describe the graph without the ResNorm
    return _export(tiny_checkpoint, tiny_synth, tmp_path_factory.mktemp("c_graph") / "out",
                   ["--input-norm", "graph", "--ranges", "percentile"])


@pytest.fixture(scope="module")
def dcase(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """A CI-size model of the ``dcase`` profile (44.1 kHz, n_fft 4096, 256 mels) on 1 s asc-synth clips."""
    from asc_edge.data.synth.generate import generate_dataset
    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    root = tmp_path_factory.mktemp("c_dcase")
    generate_dataset(root / "data", progress=False, workers=1, **DCASE_SYNTH)
    train(TrainSettings(data=str(root / "data"), out=str(root / "m.pt"), preset="tiny", frontend="dcase", epochs=1,
                        batch_size=16, progress=False, cache_dir=str(root / "cache")), log=lambda line: None)
    return _export(root / "m.pt", root / "data", root / "out")


def _pcm(wav: Path) -> np.ndarray:
    return soundfile.read(str(wav), dtype="int16")[0]


def _python_windows(model: Exported, samples: np.ndarray, hop: int | None = None
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The runtime's log-mels and input tensors of a stream's full windows every ``hop`` (default: a window,
    asc-listen's); the stream's float samples are the 16-bit ones / 32768, as the WAV reader gives them."""
    config = FrontendConfig.from_dict(model.card["frontend_config"])
    window = model.card["window"]["samples"]
    frontend, io = LogMelFrontend(config), json.loads((model.out / "export_report.json").read_text())["io"]["input"]
    spec = (model.card.get("preprocessing") or {}).get("input_resnorm")
    samples = samples.astype(np.float32) / 32768
    mels, tensors = [], []
    for start in range(0, samples.size - window + 1, hop or window):
        mel = frontend(samples[start:start + window])
        mels.append(mel)
        x = apply_input_resnorm(mel, spec) if spec else mel
        tensors.append(quantize(x, io["scale"], io["zero_point"], np.int8 if io["type"] == "INT8" else np.int16))
    return mels, tensors


def _c_windows(program: Path, wav: Path, shape: tuple[int, int], hop_seconds: str | None = None):
    run = subprocess.run([str(program), *([hop_seconds] if hop_seconds else []), "--log-mels"],
                         input=_pcm(wav).astype("<i2").tobytes(), capture_output=True, check=True)
    lines = run.stdout.decode().splitlines()
    mels = [np.array(line.split(), dtype=np.float32).reshape(shape) for line in lines[0::2]]
    tensors = [np.array(line.split(), dtype=np.int64).reshape(shape) for line in lines[1::2]]
    return mels, tensors


def _evaluate_wavs(model: Exported) -> list[Path]:
    return [model.data / clip.filename for clip in load_tau(model.data).evaluate]


def _decision(interpreter, tensor: np.ndarray) -> int:
    interpreter.set_input(tensor[None, :, :, None], 0)
    interpreter.invoke()
    return int(np.argmax(interpreter.get_output(0).reshape(-1)))


@needs_cmsis
@pytest.mark.parametrize("profile", ["small", "dcase"])
def test_host_c_frontend_matches_python(profile: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model: Exported = request.getfixturevalue(profile)
    program = c_build.build_host(model.out, tmp_path / "asc_features", defines=c_build.CHECK_DEFINES)
    shape = (model.card["window"]["n_mels"], model.card["window"]["n_frames"])
    interpreter = tflm_load(model.tflite).interpreter
    worst_mel, equal, values, beyond_one, same, decisions = 0.0, 0, 0, 0, 0, 0
    wavs = _evaluate_wavs(model)
    frame_hop = model.card["frontend_config"]["hop_length"] / model.card["frontend_config"]["sample_rate"]
    for i, wav in enumerate(wavs):
        # the first clips also at a hop of two frames: windows overlap and reuse their inside frames
        for hop_seconds in [None] + ([f"{2 * frame_hop!r}"] if i < 2 else []):
            hop = None if hop_seconds is None else max(1, round(float(hop_seconds) *
                                                               model.card["frontend_config"]["sample_rate"]))
            pcm = _pcm(wav)
            # what the C program is fed: the samples the runtime reads
            assert np.array_equal(read_audio(wav, model.card["frontend_config"]["sample_rate"]).samples,
                                  pcm.astype(np.float32) / 32768)
            py_mels, py_tensors = _python_windows(model, pcm, hop)
            c_mels, c_tensors = _c_windows(program, wav, shape, hop_seconds)
            assert len(c_tensors) == len(py_tensors) > 0, wav
            for pm, cm, pt, ct in zip(py_mels, c_mels, py_tensors, c_tensors):
                worst_mel = max(worst_mel, float(np.abs(pm - cm).max()))
                step = np.abs(pt.astype(np.int64) - ct)
                equal, values, beyond_one = equal + int((step == 0).sum()), values + step.size, beyond_one + int(
                    (step > 1).sum())
                if hop_seconds is None:  # the decisions: the file's windows at asc-listen's default hop
                    same += _decision(interpreter, pt) == _decision(interpreter, ct.astype(pt.dtype))
                    decisions += 1
    print(f"\n{profile}: {len(wavs)} evaluate clips, {decisions} windows; log-mel max |C - Python| {worst_mel:.3g}; "
          f"input tensors equal on {equal}/{values} values ({100 * equal / values:.3f} %), {beyond_one} beyond "
          f"one step; TFLite Micro decisions agree on {same}/{decisions}")
    assert worst_mel <= 1e-3
    assert equal / values >= 0.99 and beyond_one == 0
    assert same / decisions >= 0.995


def _stream(model: Exported, clips: int) -> np.ndarray:
    """The first evaluate clips end to end: one stream whose windows straddle clip boundaries."""
    return np.concatenate([_pcm(wav) for wav in _evaluate_wavs(model)[:clips]])


def _chunked_c_tensors(program: Path, pcm: np.ndarray, hop: int) -> list[np.ndarray]:
    run = subprocess.run([str(program), str(hop)], input=pcm.astype("<i2").tobytes(), capture_output=True,
                         check=True)
    return [np.array(line.split(), dtype=np.int64) for line in run.stdout.decode().splitlines()]


@needs_cmsis
@pytest.mark.parametrize("profile", ["small", "small_graph_norm"])
def test_streaming_windows_fed_in_varying_blocks_equal_python(profile: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    """Blocks of 1 .. several windows of samples, windows at asc-listen's default hop (one window) with the
    MCU build's default ASC_FRONTEND_MAX_WINDOWS, and overlapping at two frames and at 23 frames; each
    window's input tensor equals Python's. ``small`` keeps float32 frames (its input ResNorm needs them),
    ``small_graph_norm`` (ResNorm in the graph) int8 ones."""
    model: Exported = request.getfixturevalue(profile)
    chunks = str(Path(__file__).parent / "c" / "frontend_chunks.c")
    mcu_build = c_build.build_host(model.out, tmp_path / "chunks", main=chunks)
    overlap_build = c_build.build_host(model.out, tmp_path / "chunks_overlap", main=chunks,
                                       defines=("-DASC_FRONTEND_MAX_WINDOWS=64",))
    pcm = _stream(model, 12)
    frame_hop, window = model.card["frontend_config"]["hop_length"], model.card["window"]["samples"]
    equal = values = windows = beyond_one = 0
    for program, hop in [(mcu_build, window), (overlap_build, 2 * frame_hop), (overlap_build, 23 * frame_hop)]:
        python = _python_windows(model, pcm, hop)[1]
        c_tensors = _chunked_c_tensors(program, pcm, hop)
        assert len(c_tensors) == len(python) > 1, hop
        for expected, got in zip(python, c_tensors):
            step = np.abs(expected.reshape(-1).astype(np.int64) - got)
            equal, values, beyond_one = equal + int((step == 0).sum()), values + got.size, beyond_one + int(
                (step > 1).sum())
        windows += len(python)
    print(f"\n{profile} streamed in varying blocks: {windows} windows at hops of a window, 2 and 23 frames; "
          f"int8 tensors equal to Python on {equal}/{values} values, {beyond_one} beyond one step")
    # the C and numpy float32 log-mels may differ in their last bit (logf vs numpy's log), which can move a
    # value across a rounding boundary: rarely, and by one step at most
    assert equal / values >= 0.9999 and beyond_one == 0


@needs_cmsis
def test_sanitized_build_checks_its_arguments(small: Exported, tmp_path: Path) -> None:
    checks = c_build.build_host(small.out, tmp_path / "arguments", sanitize=True,
                                main=str(Path(__file__).parent / "c" / "frontend_arguments.c"))
    run = subprocess.run([str(checks)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
    # the streaming paths under ASan/UBSan: varying blocks, overlapping windows; same output as -O2
    chunks, overlap = str(Path(__file__).parent / "c" / "frontend_chunks.c"), ("-DASC_FRONTEND_MAX_WINDOWS=64",)
    sanitized_chunks = c_build.build_host(small.out, tmp_path / "chunks_asan", sanitize=True, main=chunks,
                                          defines=overlap)
    plain_chunks = c_build.build_host(small.out, tmp_path / "chunks", main=chunks, defines=overlap)
    stream, hop = _stream(small, 4), 2 * small.card["frontend_config"]["hop_length"]
    sanitized_tensors = _chunked_c_tensors(sanitized_chunks, stream, hop)
    assert sanitized_tensors and all(np.array_equal(a, b) for a, b in
                                     zip(sanitized_tensors, _chunked_c_tensors(plain_chunks, stream, hop), strict=True))
    program = c_build.build_host(small.out, tmp_path / "asc_features_asan", sanitize=True)
    plain = c_build.build_host(small.out, tmp_path / "asc_features")
    pcm = stream.astype("<i2").tobytes()
    sanitized = subprocess.run([str(program)], input=pcm, capture_output=True)
    assert sanitized.returncode == 0, sanitized.stderr.decode()
    assert sanitized.stdout == subprocess.run([str(plain)], input=pcm, capture_output=True, check=True).stdout
    frame_seconds = small.card["frontend_config"]["hop_length"] / small.card["frontend_config"]["sample_rate"]
    for args, data, message in [([], pcm + b"\x01", "half a 16-bit sample"), (["abc"], pcm, "expected a hop"),
                                (["100"], pcm, "expected a hop"), ([], pcm[:1000], "shorter than one window"),
                                ([f"{1.5 * frame_seconds!r}"], pcm, "multiple of the frame hop"),
                                ([f"{frame_seconds!r}"], pcm, "windows in flight"),
                                (["--log-mels"], pcm, "ASC_FRONTEND_KEEP_LOG_MELS")]:
        bad = subprocess.run([str(program), *args], input=data, capture_output=True, text=False)
        err = bad.stderr.decode()
        assert bad.returncode == 2 and message in err and len(err.strip().splitlines()) == 1, err


def _model_file_with_card(model: Exported, card: dict | None, path: Path) -> Path:
    from asc_edge.export.flatbuffer import _pack, _unpack, embed_model_card

    if card is None:  # a valid flatbuffer without the asc-edge model card
        bare = _unpack(model.tflite)
        bare.metadata = [m for m in bare.metadata if m.name not in (b"asc_edge", "asc_edge")]
        path.write_bytes(_pack(bare))
    else:
        path.write_bytes(embed_model_card(model.tflite, card))
    return path


def test_unsupported_frontend_or_no_card_is_one_line_and_no_c_file(small: Exported, tiny_checkpoint: Path,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    card = {k: v for k, v in small.card.items() if k != "file_sha256"}
    # an FFT size arm_rfft_fast_f32 lacks (a card the runtime accepts: the Python frontend takes any even n_fft)
    odd_fft = {**card, "frontend_config": {**card["frontend_config"], "n_fft": 2000}}
    cases = [(_model_file_with_card(small, None, tmp_path / "bare.tflite"), "no asc-edge metadata"),
             (_model_file_with_card(small, odd_fft, tmp_path / "odd_fft.tflite"), "arm_rfft_fast_f32 takes")]
    for path, message in cases:
        out = tmp_path / f"{path.stem}_c"
        assert run_cli(main, ["--c-array-of", str(path), "-o", str(out)], prog="asc-export") == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists() or not any(out.iterdir())
    # the export itself refuses before any work, and writes nothing
    checkpoint = torch.load(tiny_checkpoint, weights_only=False)
    checkpoint["frontend_config"] = {**checkpoint["frontend_config"], "center": False}
    torch.save(checkpoint, tmp_path / "uncentred.pt")
    out = tmp_path / "uncentred_export"
    assert run_cli(main, [str(tmp_path / "uncentred.pt"), "-o", str(out), "--c-array", "--quiet"],
                   prog="asc-export") == 2
    err = capsys.readouterr().err
    assert "center=false" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    # a supported file: --c-array-of writes the same C files as the export did
    again = tmp_path / "again"
    assert run_cli(main, ["--c-array-of", str(small.out / "model_int8.tflite"), "-o", str(again)],
                   prog="asc-export") == 0
    for name in C_FILES:
        assert (again / name).is_file() and (small.out / name).is_file()
    assert (again / "asc_frontend.c").read_bytes() == (small.out / "asc_frontend.c").read_bytes()


def test_memory_is_told_whole(small: Exported, capsys: pytest.CaptureFixture) -> None:
    report = json.loads((small.out / "export_report.json").read_text())
    memory = report["mcu_memory"]
    assert memory["file_bytes"] == len(small.tflite)
    assert memory["tflm_arena_bytes"] == report["tflm"]["arena_measured_bytes"]
    assert memory["ram_bytes"] == memory["tflm_arena_bytes"] + memory["frontend_ram_bytes"]
    assert memory["total_bytes"] == memory["ram_bytes"] + memory["file_bytes"]
    header = (small.out / "asc_frontend.h").read_text()
    for key, name in [("file_bytes", "MODEL_FILE"), ("tflm_arena_bytes", "TFLM_ARENA"),
                      ("frontend_ram_bytes", "FRONTEND_RAM"), ("total_bytes", "TOTAL")]:
        assert f"#define ASC_MCU_{name}_BYTES {memory[key]}\n" in header
    assert run_cli(main, ["--info", str(small.out / "model_int8.tflite")], prog="asc-export") == 0
    info = capsys.readouterr().out
    assert f"= {memory['total_bytes']:,} bytes" in info and f"C frontend RAM {memory['frontend_ram_bytes']:,}" in info


@pytest.mark.skipif(c_build.cross_missing() is not None, reason=str(c_build.cross_missing()))
def test_cortex_m4_worked_example_tensors_equal_the_host(small: Exported, tmp_path: Path) -> None:
    wav = _evaluate_wavs(small)[0]
    pcm = _pcm(wav)
    elf, link_map = c_build.build_worked_example(small.out, pcm, tmp_path / "m4")
    run = c_build.run_cortex_m4(elf)
    assert run.returncode == 0, run.stdout[-500:] + run.stderr
    emulated = [line.split(None, 1)[1] for line in run.stdout.splitlines() if line.startswith("tensor ")]
    host = subprocess.run([str(c_build.build_host(small.out, tmp_path / "asc_features"))],
                          input=pcm.astype("<i2").tobytes(), capture_output=True, check=True).stdout.decode()
    assert emulated and emulated == host.splitlines()
    assert sum(line.startswith("window ") for line in run.stdout.splitlines()) == len(emulated)
    sizes = c_build.map_sizes(link_map)
    flash = sum(sizes[o]["flash"] for o in c_build.frontend_objects() if o in sizes)
    ram = sum(sizes[o]["ram"] for o in c_build.frontend_objects() if o in sizes)
    report = json.loads((small.out / "export_report.json").read_text())
    print(f"\nCortex-M4F (QEMU mps2-an386): {len(emulated)} windows equal to the host's; frontend + CMSIS-DSP "
          f"flash {flash:,} B, RAM {ram:,} B (map); header says RAM {report['mcu_memory']['frontend_ram_bytes']:,}")
    assert ram == report["mcu_memory"]["frontend_ram_bytes"]
