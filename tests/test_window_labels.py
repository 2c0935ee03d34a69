"""asc-listen's formats name the same window bounds: the table must not round 4.992 s to "5.0 s" while csv,
jsonl and Audacity labels say 4.992 (the packaged model's window is 79,872 samples at 16 kHz)."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest

from asc_edge.runtime.files import classify_source
from asc_edge.runtime.formats import render
from asc_edge.runtime.model import SceneModel
from asc_edge.runtime.packaged import default_model_path


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    import soundfile

    path = tmp_path_factory.mktemp("labels") / "noise.wav"
    soundfile.write(path, (0.1 * np.random.default_rng(0).standard_normal(16000 * 16)).astype(np.float32), 16000)
    with default_model_path() as model_path:
        model = SceneModel(model_path)
        return classify_source(model, str(path), hop_seconds=2.5), model.labels


def test_every_format_gives_the_same_window_bounds(result: tuple) -> None:
    file_result, labels = result
    exact = [(round(w.start, 3), round(w.end, 3)) for w in file_result.windows]
    assert len(exact) >= 3 and any(end % 0.1 > 1e-6 for _, end in exact)  # bounds that 0.1 s rounding would change

    table = render([file_result], labels, "table", 3)
    spans = [(float(a), float(b)) for a, b in re.findall(r"(\d+\.\d+)-(\d+\.\d+) s", table)]
    rows = list(csv.DictReader(io.StringIO(render([file_result], labels, "csv", 3))))
    from_csv = [(float(r["start"]), float(r["end"])) for r in rows if r["kind"] == "window"]
    lines = [json.loads(line) for line in render([file_result], labels, "jsonl", 3).splitlines()]
    from_jsonl = [(round(r["start"], 3), round(r["end"], 3)) for r in lines if r["kind"] == "window"]
    audacity = [line.split("\t") for line in render([file_result], labels, "audacity", 3).splitlines()]
    from_audacity = [(round(float(a), 3), round(float(b), 3)) for a, b, _ in audacity]
    assert spans == from_csv == from_jsonl == from_audacity == exact


def test_the_table_shows_millisecond_bounds(result: tuple) -> None:
    file_result, labels = result
    table = render([file_result], labels, "table", 3)
    assert "0.000-4.992 s" in table and "5.0 s" not in table
