"""asc-edge: device-robust acoustic scene classification, from training to an int8 model on a Pi.

The public API, for applications that embed the runtime (numpy, soundfile, scipy and LiteRT; no torch, no
TensorFlow), documented in docs/python-api.md::

    from asc_edge import classify_file, load_model
    model = load_model("model_int8.tflite")      # or load_model() for the packaged demo model
    result = classify_file("clip.wav", model)
    print(model.labels[result.probabilities.argmax()])

Everything else is internal and may change between versions.
"""

from __future__ import annotations

import importlib

from asc_edge.plumbing.version import __version__

__all__ = ["AscEdgeError", "AudioError", "FileResult", "ModelFileError", "SceneModel", "WindowResult",
           "classify_file", "load_model", "__version__"]

# Imported on first use, so that `import asc_edge.train` (or any other subpackage) does not load the runtime.
_PUBLIC = {"SceneModel": "asc_edge.runtime.model", "classify_file": "asc_edge.runtime.api",
           "load_model": "asc_edge.runtime.api", "FileResult": "asc_edge.runtime.files",
           "WindowResult": "asc_edge.runtime.files", "AscEdgeError": "asc_edge.plumbing.errors",
           "AudioError": "asc_edge.plumbing.errors", "ModelFileError": "asc_edge.plumbing.errors"}


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'asc_edge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
