"""Bring your own recordings (issue 25), end to end at CI size: a folder per label of real WAV/FLAC files (odd
rates, stereo, long and short, a background folder; devices.csv present or absent) -> asc-train (default QAT)
-> asc-export (default gates) -> asc-listen, and the same folder through asc-train recipe."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from byo_folders import build_label_folders

SRC = Path(__file__).resolve().parents[1] / "src"
FAST = ["--frontend", "small", "--window", "1", "--hop", "0.5", "--batch-size", "8"]


def _run(module: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=900)


def _subsets(split_csv: Path) -> dict[str, set[str]]:
    rows = list(csv.DictReader(split_csv.open()))
    return {s: {r["file"] for r in rows if r["subset"] == s} for s in ("train", "evaluate")}


def test_train_export_listen_on_a_folder_per_label(tmp_path: Path) -> None:
    data = build_label_folders(tmp_path / "data", recordings_per_label=6, devices=True)
    model = tmp_path / "model.pt"
    done = _run("asc_edge.recipe.asc_train", "--data", str(data), "--out", str(model), "--epochs", "6", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "data: a folder per label" in done.stderr and "devices (devices.csv): phone, pi" in done.stderr
    subsets = _subsets(tmp_path / "model_report" / "split.csv")
    assert subsets["evaluate"] and not subsets["train"] & subsets["evaluate"]
    report = json.loads((tmp_path / "model_report" / "metrics.json").read_text())
    final = report["final"]
    assert set(final["per_class"]) == {"background", "kitchen", "machine_room", "office"}
    assert len(final["confusion"]) == 4 and set(final["per_device"]) >= {"pi", "phone"}
    assert final["accuracy"] > 0.5  # chance is 0.25: the tones are easy to tell apart
    # the run ends with each class's accuracy and where its pictures are
    per_class = next(line for line in done.stdout.splitlines() if line.startswith("eval accuracy per class"))
    assert all(f"{label} {100 * a:.1f}" in per_class for label, a in final["per_class"].items())
    assert f"pictures: {tmp_path / 'model_report' / 'confusion.png'}, " in done.stdout

    out = tmp_path / "export"
    done = _run("asc_edge.export.cli", str(model), "-o", str(out))  # --calib: the folder the checkpoint names
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "split as recorded in the checkpoint" in done.stderr

    background = next(iter(sorted(n for n in subsets["evaluate"] if n.startswith("_background/"))))
    done = _run("asc_edge.runtime.listen_cli", str(data / background), str(data / "office"), "--model",
                str(out / "model_int8.tflite"), "--format", "csv")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {"background", "kitchen", "machine_room", "office"} <= set(rows[0])
    files = [r for r in rows if r["kind"] == "file"]
    assert len(files) == 1 + 6 and files[0]["label"] == "background"


def test_recipe_on_a_folder_per_label_without_devices(tmp_path: Path) -> None:
    data = build_label_folders(tmp_path / "data", recordings_per_label=5, devices=False)
    config = tmp_path / "ci.toml"
    config.write_text('base = "quick"\n[run]\nbatch_size = 8\n[student]\nepochs = 4\n[int8]\nqat_epochs = 1\n')
    run = tmp_path / "run"
    args = ["recipe", "--data", str(data), "--out", str(run), "--config", str(config), "--quiet", "--window", "1",
            "--hop", "0.5"]
    done = _run("asc_edge.recipe.asc_train", *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "stage translator: left out" in done.stdout and not (run / "translator").exists()
    assert "devices: none known" in done.stdout
    # no device labels: the epoch lines say nothing about seen/unseen devices, and no one-bar device picture
    epochs = [line for line in done.stdout.splitlines() if re.search(r"\bepoch \d+/\d+ ", line)]
    assert epochs and not [line for line in epochs if "seen" in line], epochs
    assert not list(run.rglob("per_device.png")) and list(run.rglob("confusion.png"))
    assert (run / "export" / "model_int8.tflite").is_file()
    split = (run / "split.csv").read_text()
    again = _run("asc_edge.recipe.asc_train", *args)  # a rerun: the same split, every stage skipped
    assert again.returncode == 0 and "split from" in again.stdout and "skipped" in again.stdout, again.stdout
    assert (run / "split.csv").read_text() == split
