"""On emulated ARM64 (Cortex-A72, qemu-user): streaming, shared frames and batch stay bit-identical."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / ".arm64-root"
REASON = None
if shutil.which("qemu-aarch64-static") is None:
    REASON = "qemu-user-static is not installed (bash scripts/arm64_emulation.sh installs it; .ci/run does)"
elif not (ROOT / "opt" / "site" / "scipy").exists():
    REASON = f"no emulated aarch64 root with scipy at {ROOT}: build it with bash scripts/arm64_emulation.sh"


@pytest.mark.skipif(REASON is not None, reason=str(REASON))
def test_streaming_and_shared_frames_are_bit_exact_on_arm64() -> None:
    refresh = subprocess.run(["bash", str(REPO / "scripts" / "arm64_emulation.sh"), str(ROOT)], capture_output=True,
                             text=True, timeout=600)  # copies the current package into the root
    assert refresh.returncode == 0, refresh.stderr[-2000:]
    done = subprocess.run(["qemu-aarch64-static", "-cpu", "cortex-a72", "-L", str(ROOT), "-E",
                           "PYTHONPATH=/opt/site:/opt/asc", "-E", "HOME=/tmp", str(ROOT / "usr/bin/python3.11"),
                           str(REPO / "tests" / "arm64_bitexact_check.py")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "ALL True", done.stdout
