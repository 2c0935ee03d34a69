"""The runtime as a library: what ``from asc_edge import ...`` gives an application that embeds asc-edge."""

from __future__ import annotations

from pathlib import Path

from asc_edge.runtime.files import FileResult, classify_source
from asc_edge.runtime.model import SceneModel
from asc_edge.runtime.packaged import default_model_path


def load_model(path: str | Path | None = None, threads: int = 1) -> SceneModel:
    """A checked model ready to classify: ``path`` (an asc-export .tflite) or, when None, the packaged demo model."""
    if path is not None:
        return SceneModel(path, threads=threads)
    with default_model_path() as packaged:
        return SceneModel(packaged, threads=threads)


def classify_file(path: str | Path, model: SceneModel | None = None,
                  hop_seconds: float | None = None) -> FileResult:
    """Every analysis window of one audio file (WAV, FLAC, OGG; any rate and channels), classified by ``model``
    (default: the packaged model). ``result.probabilities`` is the file's mean; ``result.windows`` each window."""
    return classify_source(model or load_model(), str(path), hop_seconds)
