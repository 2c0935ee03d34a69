"""The runtime on emulated ARM64 (Raspberry Pi 4 class, qemu-user) gives the x86 results."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / ".arm64-root"
REASON = None
if shutil.which("qemu-aarch64-static") is None:
    REASON = "qemu-user-static is not installed (bash scripts/arm64_emulation.sh installs it; .ci/run does)"
elif not (ROOT / "usr" / "bin" / "python3.11").exists() or not (ROOT / "opt" / "site" / "ai_edge_litert").exists():
    REASON = f"no emulated aarch64 root at {ROOT}: build it with bash scripts/arm64_emulation.sh (.ci/run does)"


@pytest.mark.skipif(REASON is not None, reason=str(REASON))
def test_arm64_gives_the_x86_top1_and_probabilities(tiny_synth: Path, tmp_path: Path) -> None:
    clips = [soundfile.read(p, dtype="float32")[0] for p in sorted((tiny_synth / "audio").glob("*.wav"))[::7][:7]]
    wav = tmp_path / "scenes.wav"
    soundfile.write(wav, np.concatenate(clips), 16000)
    from asc_edge.runtime.files import classify_source
    from asc_edge.runtime.model import SceneModel
    from asc_edge.runtime.packaged import default_model_path

    with default_model_path() as path:
        x86 = classify_source(SceneModel(path), str(wav))
    done = subprocess.run(["bash", str(REPO / "scripts" / "arm64_emulation.sh"), str(ROOT), str(wav)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "aarch64" in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    arm_windows = [r for r in rows if r["kind"] == "window"]
    assert len(arm_windows) == len(x86.windows) >= 2
    labels = list(rows[0]["probabilities"])
    for arm, ours in zip(arm_windows, x86.windows):
        arm_probabilities = np.array([arm["probabilities"][label] for label in labels])
        assert int(np.argmax(arm_probabilities)) == int(np.argmax(ours.probabilities))
        np.testing.assert_allclose(arm_probabilities, ours.probabilities, atol=1e-3)
