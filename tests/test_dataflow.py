"""The runtime's data path: block reading, streaming resampling, shared frames, rate bounds, short audio.

Every "equal" below is bit for bit: file mode reads in blocks and streams, and must give exactly what reading
the whole file, resampling it at once and computing every window's features from scratch gives.
"""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.io import read_audio
from asc_edge.audio.profiles import PROFILES
from asc_edge.audio.resample import StreamingResampler, filter_bytes, resample
from asc_edge.audio.stream import WindowStream
from asc_edge.audio.windowed import WindowedLogMel
from asc_edge.audio.windows import fit_to_window, window_starts
from asc_edge.plumbing.errors import AudioError
from asc_edge.runtime.files import classify_source
from asc_edge.runtime.model import SceneModel
from asc_edge.runtime.packaged import default_model_path

LISTEN = [sys.executable, "-m", "asc_edge.runtime.listen_cli"]


@pytest.fixture(scope="module")
def model() -> SceneModel:
    with default_model_path() as path:
        return SceneModel(path)


def _scene(rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.3 * t))
    return (0.05 * rng.standard_normal(t.size) + tone).astype(np.float32)


def _chunks(x: np.ndarray, size, seed: int = 1):
    rng = np.random.default_rng(seed)
    position = 0
    while position < x.size:
        step = int(rng.integers(1, 5000)) if size == "random" else size
        yield x[position:position + step]
        position += step


def _reference(model: SceneModel, path: Path, hop: int) -> list[tuple[float, np.ndarray]]:
    """Today's file mode: read and resample the whole file, then every window's features from scratch."""
    clip = read_audio(path, target_rate=model.window.sample_rate)
    window = model.window.samples
    samples = fit_to_window(clip.samples, window)
    return [(start / model.window.sample_rate, model.probabilities(samples[start:start + window]))
            for start in window_starts(samples.size, window, hop)]


@pytest.mark.parametrize(("source", "target"), [(44100, 16000), (48000, 16000), (16000, 44100), (22050, 16000),
                                                (48000, 44100), (8000, 16000), (96000, 16000)])
@pytest.mark.parametrize("size", [1, 7, 441, 4096, "random"])
def test_streaming_resampler_equals_batch(source: int, target: int, size) -> None:
    x = np.random.default_rng(source).standard_normal(int(source * (0.2 if size in (1, 7) else 1.5)) + 11)
    stream = StreamingResampler(source, target)
    streamed = np.concatenate([*(stream.push(c) for c in _chunks(x, size)), stream.flush()])
    np.testing.assert_array_equal(streamed, resample(x, source, target))


@pytest.mark.parametrize("profile", ["small", "dcase"])
@pytest.mark.parametrize("hop_frames", [1, 3, 10, 37.5, 1000])
def test_shared_frames_equal_each_window_from_scratch(profile: str, hop_frames: float) -> None:
    cfg = PROFILES[profile]
    frontend = LogMelFrontend(cfg)
    window = (40 if profile == "small" else 20) * cfg.hop_length + 100  # a window off the frame grid too
    hop = int(hop_frames * cfg.hop_length)
    x = _scene(cfg.sample_rate, 3.0)
    shared = WindowedLogMel(frontend, window, hop)
    starts = window_starts(x.size, window, hop)
    for start in starts:
        np.testing.assert_array_equal(shared.features(start, x[start:start + window]),
                                      frontend(x[start:start + window]))
    per_window = cfg.n_frames(window)
    if hop < window and hop % cfg.hop_length == 0 and len(starts) > 3:
        # on the frame grid each frame is computed about once: the cost grows with the hop, not the window
        # (the first window and the extra one ending at the signal's end, off the grid, are computed whole)
        assert shared.frames_computed <= 2 * per_window + (len(starts) - 2) * (hop // cfg.hop_length + 3)


@pytest.mark.parametrize("rate", [16000, 44100, 48000, 22050])
@pytest.mark.parametrize("hop_seconds", [None, 0.032, 0.5, 1.0])
def test_block_reading_equals_whole_file_reading(model: SceneModel, tmp_path: Path, rate: int,
                                                 hop_seconds: float | None) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(rate, 13.3), rate, subtype="FLOAT")
    hop = model.window.samples if hop_seconds is None else round(hop_seconds * model.window.sample_rate)
    result = classify_source(model, str(path), hop_seconds)
    reference = _reference(model, path, hop)
    assert len(result.windows) == len(reference) >= 3
    for window, (start, probabilities) in zip(result.windows, reference):
        assert window.start == start
        np.testing.assert_array_equal(window.probabilities, probabilities)


@pytest.mark.parametrize("read_block", [1, 1000, 44100, 1 << 20])
def test_classification_does_not_depend_on_the_read_block(model: SceneModel, tmp_path: Path, read_block: int) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(48000, 1.0 if read_block == 1 else 9.0), 48000, subtype="FLOAT")
    result = classify_source(model, str(path), 0.5, min_seconds=0.5, read_block=read_block)
    reference = _reference(model, path, 8000)
    assert [w.start for w in result.windows] == [start for start, _ in reference]
    for window, (_, probabilities) in zip(result.windows, reference):
        np.testing.assert_array_equal(window.probabilities, probabilities)


@pytest.mark.parametrize("size", [1000, 4096, 65536, "random"])
def test_window_stream_emits_the_file_windows_for_any_chunk_size(model: SceneModel, size) -> None:
    capture = _scene(44100, 12.0)
    window, hop = model.window.samples, 16000
    whole = resample(capture, 44100, 16000)
    stream = WindowStream(44100, 16000, window, hop)
    got = [w for chunk in _chunks(capture, size) for w in stream.push(chunk)] + stream.finish()
    starts = window_starts(whole.size, window, hop)
    assert [stream.start_of(i) for i, _ in got] == starts
    for (_, samples), start in zip(got, starts):
        np.testing.assert_array_equal(samples, whole[start:start + window])


def test_memory_held_by_the_stream_does_not_grow_with_the_input(model: SceneModel) -> None:
    # the mechanism behind benchmarks/memory_by_length.py: only ~one window + hop of samples is kept
    window, hop = model.window.samples, 8000
    stream = WindowStream(48000, 16000, window, hop)
    rng = np.random.default_rng(0)
    held = []
    for _ in range(120):  # 2 minutes in 1 s blocks
        stream.push(0.1 * rng.standard_normal(48000))
        held.append(stream.buffered_samples)
    assert max(held) <= window + hop + 16000
    assert max(held[60:]) <= max(held[:10]) + 16000  # flat, not growing


def test_stdin_pipes_equal_the_file(model: SceneModel, tmp_path: Path) -> None:
    audio = _scene(44100, 7.0)
    for suffix in ("wav", "flac"):  # WAV is streamed from the pipe, FLAC spooled to disk (it needs seeking)
        path = tmp_path / f"clip.{suffix}"
        soundfile.write(path, audio, 44100, subtype="PCM_16")
        by_file = subprocess.run([*LISTEN, str(path), "--format", "jsonl", "--hop", "1"], capture_output=True,
                                 text=True)
        by_pipe = subprocess.run(f"cat {path} | {sys.executable} -m asc_edge.runtime.listen_cli - --format jsonl "
                                 f"--hop 1", shell=True, capture_output=True, text=True)
        assert by_file.returncode == 0 and by_pipe.returncode == 0, by_pipe.stderr
        rows = [json.loads(line) for line in by_file.stdout.splitlines()]
        piped = [json.loads(line) for line in by_pipe.stdout.splitlines()]
        assert [r["probabilities"] for r in rows] == [r["probabilities"] for r in piped] and len(rows) > 3
        with open(path, "rb") as redirected:  # `asc-listen - < file`: read in place, in blocks
            done = subprocess.run([*LISTEN, "-", "--format", "jsonl", "--hop", "1"], stdin=redirected,
                                  capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert [json.loads(line)["probabilities"] for line in done.stdout.splitlines()] == [
            r["probabilities"] for r in rows]


def test_dev_zero_on_stdin_is_refused_at_once() -> None:
    with open("/dev/zero", "rb") as zeros:
        done = subprocess.run([*LISTEN, "-"], stdin=zeros, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "stdin: not an audio stream" in done.stderr


def _wav_with_rate(path: Path, rate: int, seconds: float = 2.0) -> Path:
    """A valid 16-bit WAV whose header says ``rate`` (the fields soundfile would refuse to write)."""
    n = 16000 * int(seconds)
    pcm = (np.clip(_scene(16000, seconds), -1, 1) * 32767).astype("<i2").tobytes()[:2 * n]
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, min(rate * 2, 2**32 - 1), 2, 16) + b"data" + struct.pack("<I", len(pcm))
    path.write_bytes(header + pcm)
    return path


def _limit_memory() -> None:
    limit = 2 * 2**30  # any attempt at the GiB-sized filters of the past fails instead of swapping
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize(("rate", "accepted"), [(1, False), (7, False), (44101, True), (999983, False),
                                                (2147483647, False), (1000, True), (384000, True)])
def test_crafted_sample_rates_are_bounded_or_refused(tmp_path: Path, rate: int, accepted: bool) -> None:
    path = _wav_with_rate(tmp_path / f"rate{rate}.wav", rate, seconds=4.0 if rate < 2000 else 2.0)
    assert soundfile.info(str(path)).samplerate == rate
    done = subprocess.run([*LISTEN, str(path), "--format", "jsonl", "--min-duration", "0"], capture_output=True,
                          text=True, timeout=120, preexec_fn=_limit_memory)
    if accepted:
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["kind"] == "file"
    else:
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert str(path) in done.stderr and f"{rate} Hz" in done.stderr and "1 kHz - 384 kHz" in done.stderr
    if accepted:
        assert read_audio(path, target_rate=16000).samples.size > 0
    else:
        with pytest.raises(AudioError, match="outside the supported"):
            read_audio(path, target_rate=16000)  # the training reader refuses before decoding too


def test_filter_memory_is_capped_for_every_rate_in_range() -> None:
    from asc_edge.audio.resample import MAX_FILTER_BYTES, MAX_RATE, MIN_RATE, unsupported_rate

    rng = np.random.default_rng(0)
    for rate in [*rng.integers(MIN_RATE, MAX_RATE + 1, 300), MIN_RATE, MAX_RATE, 44101, 47999, 383999]:
        for target in (16000, 44100):
            assert (unsupported_rate(int(rate), target) is None) == (filter_bytes(int(rate), target)
                                                                     <= MAX_FILTER_BYTES)


def test_short_audio_policy(tmp_path: Path) -> None:
    help_text = subprocess.run([*LISTEN, "--help"], capture_output=True, text=True).stdout
    assert "--min-duration" in help_text and "looped" in help_text
    tiny = tmp_path / "tiny.wav"
    soundfile.write(tiny, _scene(16000, 0.5), 16000)
    done = subprocess.run([*LISTEN, str(tiny)], capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "0.500 s" in done.stderr and "1 s minimum" in done.stderr and str(tiny) in done.stderr
    one = tmp_path / "one_sample.wav"
    soundfile.write(one, np.array([0.5], dtype=np.float32), 16000, subtype="FLOAT")
    assert subprocess.run([*LISTEN, str(one)], capture_output=True, text=True).returncode == 2
    # --min-duration lowers the bar; the result is then marked as looped
    done = subprocess.run([*LISTEN, str(tiny), "--min-duration", "0.25", "--format", "jsonl"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert all(json.loads(line)["looped"] is True for line in done.stdout.splitlines())
    short, full = tmp_path / "short.wav", tmp_path / "full.wav"
    soundfile.write(short, _scene(16000, 2.0), 16000)
    soundfile.write(full, _scene(16000, 6.0), 16000)
    done = subprocess.run([*LISTEN, str(short), str(full), "--format", "csv"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["file"]: r["looped"] for r in rows if r["kind"] == "file"} == {str(short): "1", str(full): "0"}
    table = subprocess.run([*LISTEN, str(short)], capture_output=True, text=True).stdout
    assert "looped" in table
    done = subprocess.run([*LISTEN, str(short), "--min-duration", "3"], capture_output=True, text=True)
    assert done.returncode == 2 and "2.000 s" in done.stderr and "3 s minimum" in done.stderr


def test_digital_silence_is_still_refused_in_file_mode(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(16000 * 8, dtype=np.float32), 44100)
    done = subprocess.run([*LISTEN, str(silent)], capture_output=True, text=True)
    assert done.returncode == 2 and "digital silence" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_mic_reports_digital_silence_as_silence(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import virtual_mic

    if virtual_mic.available() is not None:
        pytest.skip(str(virtual_mic.available()))
    mic = virtual_mic.VirtualMic(tmp_path / "pulse")
    mic.start()
    try:
        quiet = np.zeros(16000 * 20, dtype=np.float32)
        quiet[16000 * 12:] = _scene(16000, 8.0)  # 12 s of digital silence, then sound
        mic.feed(quiet)
        done = subprocess.run([*LISTEN, "--mic", "--device", "pulse", "--seconds", "16", "--hop", "1", "--format",
                               "jsonl"], env=mic.env, capture_output=True, text=True, timeout=90)
    finally:
        mic.stop_feed()
        mic.close()
    assert done.returncode == 0, done.stderr
    decisions = [json.loads(line) for line in done.stdout.splitlines()]
    silent = [d for d in decisions if d["silence"]]
    assert silent and all(d["label"] is None and d["confidence"] == 0.0 for d in silent)
    assert any(not d["silence"] and d["label"] for d in decisions)  # sound is still classified
