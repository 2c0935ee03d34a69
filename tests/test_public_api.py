"""The declared public API: `from asc_edge import ...` names exactly __all__, and the documented example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

import asc_edge

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def test_every_public_name_resolves_and_nothing_else_does() -> None:
    for name in asc_edge.__all__:
        assert getattr(asc_edge, name) is not None
    assert sorted(dir(asc_edge)) == sorted(asc_edge.__all__)
    try:
        asc_edge.no_such_name  # noqa: B018 - the attribute access is the test
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("an unknown name resolved")


def test_the_documented_example_runs_as_written_without_torch_or_tensorflow(tmp_path: Path) -> None:
    example = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    assert len(example.strip().splitlines()) <= 10
    rng = np.random.default_rng(0)
    soundfile.write(tmp_path / "clip.wav", (0.1 * rng.standard_normal(16000 * 12)).astype(np.float32), 16000)
    check = ("\nimport sys\nbad = [m for m in ('torch', 'tensorflow', 'asc_edge.train', 'asc_edge.export') "
             "if m in sys.modules]\nassert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", example + check], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("file: ")
    assert len(lines) == 1 + 4  # 12 s at a 2.5 s hop of a 5 s window: starts 0, 2.5, 5, 7.5 (and the tail)
