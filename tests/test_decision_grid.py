"""Issue 24's decisions: hops on the frame grid, duty cycling (a hop longer than the window), a last window
that ends at the file's end, ``unknown`` under ``--min-confidence`` in every format, ``--smooth`` refused for
files, audio whose features cannot be finite refused, and flat memory (running totals, streamed output)."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.audio.resample import resample
from asc_edge.audio.windows import window_starts
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.files import classify_source
from asc_edge.runtime.listen_cli import main
from asc_edge.runtime.model import SceneModel
from test_dataflow import _scene


def _listen(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    try:
        code = run_cli(main, args, prog="asc-listen")
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("hop_frames", [160, 313, 1000])
def test_duty_cycled_windows_equal_the_same_windows_classified_alone(packaged_model: SceneModel, tmp_path: Path,
                                                                     hop_frames: int) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(44100, 40.0), 44100, subtype="FLOAT")
    hop = hop_frames * packaged_model.frontend_config.hop_length  # longer than the 4.992 s window: gaps between windows
    result = classify_source(packaged_model, str(path), hop / packaged_model.window.sample_rate)
    whole = resample(soundfile.read(path, dtype="float32")[0], 44100, packaged_model.window.sample_rate)
    starts = window_starts(whole.size, packaged_model.window.samples, hop)
    assert hop > packaged_model.window.samples and len(result.windows) == len(starts) >= 2
    for window, start in zip(result.windows, starts):
        assert window.start == start / packaged_model.window.sample_rate
        alone = packaged_model.probabilities(whole[start:start + packaged_model.window.samples])
        np.testing.assert_array_equal(window.probabilities, alone)


def test_the_last_window_ends_at_the_file_end_and_is_marked(packaged_model: SceneModel, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    # A 12 s clip at the default hop (one window): windows at 0 and 4.992 s, and one ending at 12 s (it once
    # stopped at 9.984 s while the file row said 0.000-11.999)
    path = tmp_path / "twelve.wav"
    soundfile.write(path, _scene(16000, 12.0), 16000)
    code, out, _ = _listen([str(path), "--format", "jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["start"], r["end"], r["tail"]) for r in rows if r["kind"] == "window"] == [
        (0.0, 4.992, False), (4.992, 9.984, False), (7.008, 12.0, True)]
    code, out, _ = _listen([str(path)], capsys)
    assert code == 0 and out.count("(tail: ends at the file's end)") == 1 and "7.008-12.000 s" in out


def test_a_resampled_file_ends_at_its_own_end(packaged_model: SceneModel, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    """23.7 s at 44.1 kHz: the tail window and the file row end at 23.7 s. They once ended at 23.6992 s, before
    the resampler's last 13 output samples, which the tail window itself already held."""
    path = tmp_path / "resampled.wav"
    soundfile.write(path, _scene(44100, 23.7), 44100)
    code, out, _ = _listen([str(path), "--format", "jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows[-2]["tail"] and rows[-2]["end"] == 23.7 and rows[-1]["end"] == 23.7


def test_hop_1_goes_on_the_frame_grid_and_says_so_once(packaged_model: SceneModel, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(16000, 12.0), 16000)
    code, out, err = _listen([str(path), "--hop", "1", "--format", "csv"], capsys)
    starts = [float(row["start"]) for row in csv.DictReader(io.StringIO(out)) if row["kind"] == "window"]
    assert code == 0 and err.count("--hop 1 -> 0.992 s") == 1 and "share frames" in err
    assert starts[:3] == [0.0, 0.992, 1.984]  # exact multiples of 31 frontend hops of 512 samples at 16 kHz


def test_min_confidence_reads_unknown_in_every_format(packaged_model: SceneModel, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "noise.wav"
    soundfile.write(path, (0.3 * np.random.default_rng(1).standard_normal(16000 * 12)).astype(np.float32), 16000)
    outputs = {}
    for fmt in ("jsonl", "csv", "audacity", "table"):
        code, outputs[fmt], _ = _listen([str(path), "--format", fmt, "--min-confidence", "0.99"], capsys)
        assert code == 0
    rows = [json.loads(line) for line in outputs["jsonl"].splitlines()]
    assert all(r["label"] == "unknown" for r in rows) and len(rows) == 4  # 3 windows and the file
    assert rows[-1]["unknown_windows"] == 3 and rows[-1]["windows"] == 3
    assert all(row["label"] == "unknown" for row in csv.DictReader(io.StringIO(outputs["csv"])))
    assert all("\tunknown (" in line for line in outputs["audacity"].splitlines())
    assert "(3 of 3 windows unknown)" in outputs["table"] and outputs["table"].count(" unknown ") == 4
    code, out, _ = _listen([str(path), "--format", "jsonl"], capsys)  # without the flag: the top label
    assert code == 0 and not any(json.loads(line)["label"] == "unknown" for line in out.splitlines())


def test_smooth_in_file_mode_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(16000, 6.0), 16000)
    code, out, err = _listen([str(path), "--smooth", "mean"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--smooth mean" in err and "--mic" in err


def test_audio_whose_features_cannot_be_finite_is_one_line_without_warnings(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "huge.wav"
    soundfile.write(path, (1e29 * _scene(16000, 6.0)).astype(np.float32), 16000, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow warning would fail here
        code, out, err = _listen([str(path)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "not finite" in err and str(path) in err


def test_running_totals_without_kept_windows_give_the_same_file_result(packaged_model: SceneModel,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "scene.wav"
    soundfile.write(path, _scene(16000, 30.0), 16000)
    kept = classify_source(packaged_model, str(path), 1.024)
    streamed = []
    flat = classify_source(packaged_model, str(path), 1.024, keep_windows=False,
                           on_window=lambda r, w: streamed.append(w))
    assert flat.windows == [] and flat.windows_analysed == len(kept.windows) == len(streamed) > 20
    np.testing.assert_allclose(flat.probabilities, kept.probabilities, rtol=1e-12)
    assert [w.start for w in streamed] == [w.start for w in kept.windows]
