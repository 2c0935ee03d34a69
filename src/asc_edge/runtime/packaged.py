"""Where the packaged default model lives: inside the wheel, read via importlib.resources (never downloaded)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path

DEFAULT_MODEL_NAME = "synth_student_int8.tflite"
DEFAULT_MODEL_NOTE = ("the packaged default model: the student preset trained on the synthetic asc-synth "
                      "benchmark (10 scenes, 9 devices) - a demo of the pipeline, not a model of real scenes")


def default_model_path() -> AbstractContextManager[Path]:
    """A context manager giving a real file path to the packaged model (extracted if the package is zipped)."""
    return resources.as_file(resources.files("asc_edge.runtime.default_model") / DEFAULT_MODEL_NAME)
