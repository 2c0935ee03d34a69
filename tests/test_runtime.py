"""The torch-free runtime on real WAV files with the real LiteRT interpreter and the packaged model."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.audio.stream import WindowStream
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.files import classify_source
from asc_edge.runtime.listen_cli import main
from asc_edge.runtime.model import SceneModel
from asc_edge.runtime.packaged import default_model_path


@pytest.fixture(scope="module")
def model() -> SceneModel:
    with default_model_path() as path:
        return SceneModel(path)


@pytest.fixture(scope="module")
def scene_audio(tiny_synth: Path) -> np.ndarray:
    """12 s of real asc-synth scenes (16 kHz), several clips back to back."""
    clips = [soundfile.read(p, dtype="float32")[0] for p in sorted((tiny_synth / "audio").glob("*-a.wav"))[::9][:8]]
    return np.concatenate(clips)


def _listen(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = run_cli(main, args, prog="asc-listen")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_packaged_model_describes_itself(model: SceneModel) -> None:
    assert model.backend == "litert" and len(model.labels) == 10
    assert model.window.samples == (model.window.n_frames - 1) * model.frontend_config.hop_length


def test_runtime_loads_neither_torch_nor_tensorflow(tmp_path: Path, scene_audio: np.ndarray) -> None:
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, scene_audio, 16000)
    script = ("import sys\nfrom asc_edge.plumbing.cli_util import run_cli\n"
              "from asc_edge.runtime.listen_cli import main\n"
              f"code = run_cli(main, [{str(wav)!r}, '--format', 'jsonl'])\n"
              "bad = [m for m in ('torch', 'tensorflow', 'asc_edge.train', 'asc_edge.export', 'onnxruntime') "
              "if m in sys.modules]\nprint('LOADED', bad, code)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED [] 0"


def test_long_file_gives_windows_and_a_file_result_in_jsonl(scene_audio: np.ndarray, model: SceneModel,
                                                            tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    wav = tmp_path / "long.wav"
    soundfile.write(wav, scene_audio, 16000)
    code, out, _ = _listen([str(wav), "--format", "jsonl", "--hop", "2"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    windows = [r for r in rows if r["kind"] == "window"]
    (file_row,) = [r for r in rows if r["kind"] == "file"]
    # 12 s, 4.992 s windows every 2 s rounded to the frame grid (62 frontend hops: 1.984 s), and one more ending
    # at the end (1.056 s was left uncovered), marked as the tail
    assert scene_audio.size == 192000 and model.window.samples == 79872
    assert [w["start"] for w in windows] == [0.0, 1.984, 3.968, 5.952, 7.008]
    assert [w["tail"] for w in windows] == [False] * 4 + [True] and windows[-1]["end"] == 12.0
    for row in rows:
        probabilities = row["probabilities"]
        assert set(probabilities) == set(model.labels) and sum(probabilities.values()) == pytest.approx(1, abs=1e-4)
        assert row["label"] == max(probabilities, key=probabilities.get)
    mean = np.mean([[w["probabilities"][label] for label in model.labels] for w in windows], axis=0)
    np.testing.assert_allclose([file_row["probabilities"][label] for label in model.labels], mean, atol=2e-6)


def test_table_csv_audacity_and_out_file(scene_audio: np.ndarray, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    wav = tmp_path / "long.wav"
    soundfile.write(wav, scene_audio, 16000)
    code, table, _ = _listen([str(wav), "--top-k", "2"], capsys)
    assert code == 0 and "long.wav" in table and "file" in table
    out = tmp_path / "results.csv"
    assert _listen([str(wav), "--format", "csv", "--out", str(out)], capsys)[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[-1]["kind"] == "file" and float(rows[-1][rows[-1]["label"]]) == float(rows[-1]["confidence"])
    code, labels, _ = _listen([str(wav), "--format", "audacity"], capsys)
    start, end, text = labels.splitlines()[0].split("\t")
    assert float(start) == 0.0 and float(end) > 4 and text.split()[0] in rows[0]


def test_stdin_wav_and_folders(scene_audio: np.ndarray, tmp_path: Path) -> None:
    folder = tmp_path / "recordings" / "day1"
    folder.mkdir(parents=True)
    soundfile.write(folder / "a.wav", scene_audio[:80000], 16000)
    soundfile.write(folder / "b.flac", scene_audio[80000:], 16000)
    buffer = io.BytesIO()
    soundfile.write(buffer, scene_audio[:80000], 16000, format="WAV")
    cli = [sys.executable, "-m", "asc_edge.runtime.listen_cli"]
    done = subprocess.run([*cli, "-", "--format", "jsonl"], input=buffer.getvalue(), capture_output=True)
    assert done.returncode == 0, done.stderr
    from_stdin = [json.loads(line) for line in done.stdout.decode().splitlines()]
    done = subprocess.run([*cli, str(tmp_path / "recordings"), "--format", "jsonl"], capture_output=True, text=True)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {Path(r["file"]).name for r in rows} == {"a.wav", "b.flac"}
    first = [r for r in rows if r["file"].endswith("a.wav") and r["kind"] == "file"][0]
    assert first["probabilities"] == from_stdin[-1]["probabilities"]


def test_odd_but_valid_audio_is_converted(scene_audio: np.ndarray, model: SceneModel, tmp_path: Path) -> None:
    mono = scene_audio[:80000]
    soundfile.write(tmp_path / "mono.wav", mono, 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "six.wav", np.repeat(mono[:, None], 6, axis=1), 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "u8.wav", mono, 16000, subtype="PCM_U8")
    from asc_edge.audio.resample import resample

    soundfile.write(tmp_path / "hi.wav", resample(mono, 16000, 96000), 96000, subtype="FLOAT")
    reference = classify_source(model, str(tmp_path / "mono.wav")).probabilities
    six = classify_source(model, str(tmp_path / "six.wav"))
    assert six.source_channels == 6
    np.testing.assert_allclose(six.probabilities, reference, atol=1e-6)  # a 6-channel copy downmixes exactly
    for name in ("u8.wav", "hi.wav"):
        result = classify_source(model, str(tmp_path / name))
        assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert classify_source(model, str(tmp_path / "hi.wav")).source_rate == 96000


@pytest.mark.parametrize("chunk", [1, 160, 1000, 4096, "random"])
def test_streaming_windows_equal_file_windows(chunk, scene_audio: np.ndarray, model: SceneModel,
                                              tmp_path: Path) -> None:
    from asc_edge.audio.resample import resample

    capture = resample(scene_audio, 16000, 44100)  # a 44.1 kHz microphone
    wav = tmp_path / "capture.wav"
    soundfile.write(wav, capture, 44100, subtype="FLOAT")
    offline = classify_source(model, str(wav), hop_seconds=1.0)
    stream = WindowStream(44100, 16000, model.window.samples, 16000)
    rng = np.random.default_rng(1)
    streamed, position = [], 0
    while position < capture.size:
        size = int(rng.integers(1, 3000)) if chunk == "random" else chunk
        streamed += [model.probabilities(w) for _, w in stream.push(capture[position:position + size])]
        position += size
    # every window that lies inside the audio (with the resampler's margin) matches exactly
    inside = [w for w in offline.windows if (w.start + model.window.seconds) * 16000 + 64 <= scene_audio.size]
    assert len(inside) >= 6 and len(streamed) >= len(inside)
    for window, probabilities in zip(inside, streamed):
        np.testing.assert_array_equal(window.probabilities, probabilities)


def test_bad_inputs_are_reported_and_the_batch_goes_on(scene_audio: np.ndarray, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    good = tmp_path / "good.wav"
    soundfile.write(good, scene_audio[:80000], 16000)
    empty_folder = tmp_path / "nothing_here"
    empty_folder.mkdir()
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage" + bytes(range(200)))
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30])
    zero = tmp_path / "zero.wav"
    soundfile.write(zero, np.zeros(0, dtype=np.float32), 16000)
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n")
    bad = [tmp_path / "missing.wav", empty_folder, corrupt, truncated, zero, nan, silent, text]
    code, out, err = _listen([*map(str, bad), str(good), "--format", "jsonl"], capsys)
    assert code == 1
    assert [json.loads(line)["file"] for line in out.splitlines()][-1] == str(good)
    lines = err.strip().splitlines()
    assert len(lines) == len(bad) and all(line.startswith("asc-listen: error: ") for line in lines)
    for path in bad:
        assert sum(str(path) in line for line in lines) == 1, path
        code, _, err = _listen([str(path)], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1


def test_bad_models_get_one_line(scene_audio: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, scene_audio[:80000], 16000)
    with default_model_path() as path:
        packaged = path.read_bytes()
    text = tmp_path / "model.tflite"
    text.write_text("hello\n")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(packaged[: len(packaged) // 3])
    bare = tmp_path / "bare.tflite"  # a valid flatbuffer without the asc-edge model card
    from asc_edge.export.flatbuffer import _pack, _unpack

    stripped = _unpack(packaged)
    stripped.metadata = [m for m in stripped.metadata if m.name not in (b"asc_edge", "asc_edge")]
    bare.write_bytes(_pack(stripped))
    for model_file, expected in [(text, "not a TFLite flatbuffer"), (truncated, "truncated"),
                                 (bare, "no asc-edge metadata"), (tmp_path / "none.tflite", "no such model")]:
        code, _, err = _listen([str(wav), "--model", str(model_file)], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert expected in err and str(model_file) in err


def test_bench_json_compares_engines(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "asc_edge.bench.cli", "--runs", "5",
                           "--seconds", "12", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    litert = results["engines"]["litert int8"]
    assert litert["torch_loaded"] is False and litert["tensorflow_loaded"] is False
    assert 0 < litert["window_ms_p50"] <= litert["window_ms_p90"] <= litert["window_ms_p99"]
    # 12 s: two 4.992 s windows and the one ending at the end (issue 24: no tail goes unanalysed)
    assert litert["real_time_factor"] > 0 and litert["peak_rss_mb"] > 10 and litert["windows_in_file"] == 3
    assert litert["fft_floor_ms_p50"] > 0  # the bare FFT of the same frames, timed beside the features
    assert "skipped" in results["engines"]["pytorch float"]  # no --checkpoint given
