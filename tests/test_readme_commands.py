"""The README's command blocks under "What next" run as a user runs them: pasted in order into one folder, with the
commands on PATH, at CI size.

Before them the folder holds what a user has at that point: the main job's export
(``runs/quickstart/export/model_int8.tflite``: the packaged synthetic-scene model, which is that export; the main
job itself is not run at CI size), audio of their own (``my_clip.wav``, ``long.wav``, ``recordings/``,
``kitchen_now.wav``) and their own recordings, a folder per scene (``my_sounds/<scene>/``, laid out from the
session's CI-size asc-synth set). The only edits: asc-synth's size shrunk from ``--clips-per-class 40 --duration 5``
to 8 clips of 1.5 s, and the lines that need a sound card (``--list-devices``, ``--mic``) left out
(tests/test_mic.py's virtual microphone covers them). The Raspberry Pi blocks run on a Pi (tests/test_next_steps.py
builds and runs the wheel). Then asc-eval's figures for the TAU block's export are compared with asc-train's
evaluation of the same checkpoint on the same split, and asc-export's of the same file.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.runtime.packaged import synthetic_model_path

README = Path(__file__).resolve().parents[1] / "README.md"
CI_SIZE = ("--clips-per-class 40 --duration 5", "--clips-per-class 8 --duration 1.5")
NEEDS_A_SOUND_CARD = ("--list-devices", "--mic")
FIRST, LAST = "## What next", "### Run it on a Raspberry Pi"  # the blocks run on this machine


def _blocks() -> list[list[str]]:
    """The command lines of every ```bash block between FIRST and LAST, in the README's order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(FIRST):text.index(LAST)]
    return [[line for line in body.splitlines() if line.strip() and not line.startswith("source ")]
            for body in re.findall(r"```bash\n(.*?)```", section, re.S)]


def _run_all(lines: list[str], cwd: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _noise(path: Path, seconds: float, rate: int) -> None:
    rng = np.random.default_rng(len(path.name))
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)


def _a_users_folder(home: Path, tiny_synth: Path) -> None:
    main_job = home / "runs" / "quickstart" / "export" / "model_int8.tflite"
    main_job.parent.mkdir(parents=True)
    with synthetic_model_path() as packaged:
        shutil.copyfile(packaged, main_job)
    _noise(home / "my_clip.wav", 6, 16000)
    _noise(home / "long.wav", 12, 16000)
    _noise(home / "recordings" / "day" / "a.wav", 3, 44100)
    _noise(home / "kitchen_now.wav", 6, 16000)
    with open(tiny_synth / "meta.csv", newline="") as meta:
        for row in csv.DictReader(meta, delimiter="\t"):
            target = home / "my_sounds" / row["scene_label"] / Path(row["filename"]).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tiny_synth / row["filename"], target)


def test_the_readmes_own_commands_pass_pasted_in_order(tiny_synth: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _a_users_folder(home, tiny_synth)
    blocks = _blocks()
    assert len(blocks) >= 5 and any("asc-eval" in line for block in blocks for line in block)
    for block in blocks:
        _run_all([line.replace(*CI_SIZE) for line in block if not any(f in line for f in NEEDS_A_SOUND_CARD)], home)
    assert (home / "results.csv").is_file() and (home / "labels.txt").read_text().strip()
    assert (home / "runs" / "my_eval.png").read_bytes()[:4] == b"\x89PNG"

    # asc-eval on the TAU block's export scores the split asc-train evaluated, and comes out close to asc-train's
    # and asc-export's figures, not equal: those two run the model once on a clip's frames, while asc-listen (and
    # so asc-eval) cuts a clip into windows of the model's length, a few frames short of the clip, and adds the
    # window ending at the clip's end (audio/windows.py), averaging the two. A clip whose two best classes are
    # close can go the other way; a tenth of the clips is far more than that.
    scored = json.loads((home / "runs" / "mine_eval.json").read_text())
    trained = json.loads((home / "runs" / "mine_report" / "metrics.json").read_text())["final"]
    exported = json.loads((home / "runs" / "mine_export" / "export_report.json").read_text())["fidelity"]
    with open(home / "data" / "mine" / "evaluation_setup" / "fold1_evaluate.csv") as table:
        clips = sum(1 for _ in table) - 1
    assert scored["recordings"] == clips == trained["n"] == exported["clips"]
    moved = np.abs(np.array(scored["confusion"]) - np.array(trained["confusion"])).sum() / 2  # at least this many
    assert moved <= max(1, clips // 10), (scored["confusion"], trained["confusion"])
    assert abs(scored["macro_accuracy"] - exported["int8_macro_accuracy"]) <= 0.1
    assert scored["log_loss"] == pytest.approx(exported["int8_log_loss"], rel=0.1)
    assert scored["per_device"].keys() == trained["per_device"].keys()
