"""The README's command blocks run as printed, in order, at CI size.

"Export your own model" has two blocks, each run line by line in its own scratch folder with the commands on
PATH: a TAU-layout folder (asc-synth's size shrunk from ``--clips-per-class 40 --duration 5`` to 8 clips of
1.5 s; nothing else changed) and a folder per scene (``my_sounds/<scene>/``, laid out here from that asc-synth
set's audio). The recipe runs on the TAU folder. "Classify your own audio" then runs on WAVs this test writes,
with the model exported above in place of the main job's (the main job itself is not run at CI size); its
`--list-devices` and `--mic` lines need a sound card and are covered by tests/test_mic.py's virtual microphone.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

README = Path(__file__).resolve().parents[1] / "README.md"
CI_SIZE = ("--clips-per-class 40 --duration 5", "--clips-per-class 8 --duration 1.5")
NEEDS_A_SOUND_CARD = ("--list-devices", "--mic")


def _block(after: str) -> list[str]:
    """The command lines of the first ```bash block after the text ``after``."""
    text = README.read_text(encoding="utf-8")
    body = re.search(r"```bash\n(.*?)```", text[text.index(after):], re.S).group(1)
    return [line for line in body.splitlines() if line.strip() and not line.startswith("source ")]


def _run_all(lines: list[str], cwd: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _noise(path: Path, seconds: float, rate: int) -> None:
    rng = np.random.default_rng(len(path.name))
    soundfile.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)


def test_the_readmes_own_commands_pass_as_printed(tmp_path: Path) -> None:
    tau, folders = tmp_path / "tau", tmp_path / "folders"
    tau.mkdir()
    _run_all([line.replace(*CI_SIZE) for line in _block("A TAU-layout folder")], tau)
    _run_all(_block("The whole system in one resumable command"), tau)
    # A folder per scene: the same asc-synth audio, laid out by label.
    with open(tau / "data" / "mine" / "meta.csv", newline="") as meta:
        for row in csv.DictReader(meta, delimiter="\t"):
            target = folders / "my_sounds" / row["scene_label"] / Path(row["filename"]).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tau / "data" / "mine" / row["filename"], target)
    _noise(folders / "kitchen_now.wav", 6, 16000)
    _run_all(_block("### Export your own model"), folders)
    # "Classify your own audio", with the TAU block's export in place of the main job's.
    _noise(tau / "my_clip.wav", 6, 16000)
    _noise(tau / "long.wav", 12, 16000)
    (tau / "recordings" / "day").mkdir(parents=True)
    _noise(tau / "recordings" / "day" / "a.wav", 3, 44100)
    listen = [line.replace("runs/quickstart/export/model_int8.tflite", "runs/my_export/model_int8.tflite")
              for line in _block("### Classify your own audio") if not any(f in line for f in NEEDS_A_SOUND_CARD)]
    _run_all(listen, tau)
    assert (tau / "results.csv").is_file() and (tau / "labels.txt").read_text().strip()
