"""``asc-bench A.tflite B.tflite``: several files timed in one run, side by side, each engine in its own worker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asc_edge.bench.cli import main as bench_main
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.packaged import default_model_path


def test_several_files_side_by_side_in_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with default_model_path() as packaged:
        files = [tmp_path / name / "model_int8.tflite" for name in ("a", "b")]
        for path in files:
            path.parent.mkdir()
            shutil.copyfile(packaged, path)
    assert run_cli(bench_main, [*map(str, files), "--runs", "2", "--seconds", "3", "--json"], prog="asc-bench") == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in results["models"]] == [str(p) for p in files]
    for one in results["models"]:
        litert = one["engines"]["litert int8"]
        assert litert["runs"] == 2 and litert["window_ms_p50"] > 0 and litert["torch_loaded"] is False
        assert "no ONNX file" in one["engines"]["onnxruntime float"]["skipped"]
    assert run_cli(bench_main, [*map(str, files), "--runs", "2", "--seconds", "3"], prog="asc-bench") == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {tmp_path}")]
    assert len(rows) == 6 and all(row.count("|") == 10 for row in rows)  # 2 files x 3 engines, 9 columns


def test_several_files_with_one_bad_are_refused_before_any_timing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with default_model_path() as packaged:
        code = run_cli(bench_main, [str(packaged), str(bad), "--runs", "1"], prog="asc-bench")
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and captured.err.count("\n") == 1 and str(bad) in captured.err
    with default_model_path() as packaged:
        code = run_cli(bench_main, [str(packaged), str(packaged), "--checkpoint", "x.pt"], prog="asc-bench")
    assert code == 2 and "--checkpoint" in capsys.readouterr().err
