"""The README's command blocks run as printed, in order, at CI size.

"Export your own model" and the recipe run line by line in a scratch folder with the commands on PATH; the
only change is asc-synth's size (``--clips-per-class 40 --duration 5`` -> 8 clips of 1.5 s), so the whole file
runs in minutes. "Classify your own audio" then runs on WAVs this test writes, with the model exported above in
place of the main job's (the main job itself is not run at CI size); its `--list-devices` and `--mic` lines need
a sound card and are covered by tests/test_mic.py's virtual microphone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

README = Path(__file__).resolve().parents[1] / "README.md"
CI_SIZE = ("--clips-per-class 40 --duration 5", "--clips-per-class 8 --duration 1.5")
NEEDS_A_SOUND_CARD = ("--list-devices", "--mic")


def _block(after: str) -> list[str]:
    """The command lines of the first ```bash block after the heading ``after``."""
    text = README.read_text(encoding="utf-8")
    body = re.search(r"```bash\n(.*?)```", text[text.index(after):], re.S).group(1)
    return [line for line in body.splitlines() if line.strip() and not line.startswith("source ")]


def _run(line: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_readmes_own_commands_pass_as_printed(tmp_path: Path) -> None:
    export_block = _block("### Export your own model")
    recipe_block = _block("The whole system in one resumable command")
    for line in export_block + recipe_block:
        line = line.replace(*CI_SIZE)
        done = _run(line, tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(16000 * 12)).astype(np.float32)
    soundfile.write(tmp_path / "my_clip.wav", noise[:16000 * 6], 16000)
    soundfile.write(tmp_path / "long.wav", noise, 16000)
    (tmp_path / "recordings" / "day").mkdir(parents=True)
    soundfile.write(tmp_path / "recordings" / "day" / "a.wav", noise[:16000 * 3], 44100)
    main_job_model = "runs/quickstart/export/model_int8.tflite"
    for line in _block("### Classify your own audio"):
        if any(flag in line for flag in NEEDS_A_SOUND_CARD):
            continue
        done = _run(line.replace(main_job_model, "runs/my_export/model_int8.tflite"), tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    assert (tmp_path / "results.csv").is_file() and (tmp_path / "labels.txt").read_text().strip()

