"""The benchmark scripts run and print their figures (no timing is asserted: targets live in the scripts)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True,
                          text=True, timeout=600)


def test_frontend_speed_prints_time_per_10s() -> None:
    result = _run("frontend_speed.py", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert "ms per 10 s of audio" in result.stdout
    assert "log-mel dcase batch (256, 431)" in result.stdout and "resample 48000 -> 44100 Hz" in result.stdout


def test_synth_difficulty_quick_mode(tmp_path: Path) -> None:
    out = tmp_path / "difficulty.json"
    result = _run("synth_difficulty.py", "--clips-per-class", "6", "--duration", "1", "--epochs", "1",
                  "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "unseen" in result.stdout and out.is_file()


def test_train_throughput_prints_clips_per_second() -> None:
    result = _run("train_throughput.py", "--presets", "tiny", "--profiles", "small", "--steps", "1",
                  "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    assert "clips/s" in result.stdout and "tiny" in result.stdout


def test_ablation_quick_mode_writes_its_table_json_and_plot(tmp_path: Path) -> None:
    import json

    result = _run("ablation.py", "--quick", "--out", str(tmp_path / "ablation"))
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "ablation" / "results.json").read_text())["summary"]
    assert set(summary) == {"a", "b", "c", "d", "e", "teacher"}
    assert summary["e"]["nonzero_parameters"]["mean"] < summary["d"]["nonzero_parameters"]["mean"]  # pruned
    assert summary["e"]["tflite_bytes"]["mean"] < summary["d"]["tflite_bytes"]["mean"]
    for variant in "abcde":
        assert 0.0 <= summary[variant]["accuracy"]["mean"] <= 1.0 and summary[variant]["log_loss"]["mean"] > 0
    table = (tmp_path / "ablation" / "results.md").read_text()
    assert table.count("\n| (") == 6 and (tmp_path / "ablation" / "ablation.png").stat().st_size > 1000
