"""The models inside the wheel, read via importlib.resources (never downloaded).

* ``esc10_student_int8.tflite``, the default of asc-listen / asc-bench / ``load_model()``: the student preset
  trained on ESC-10's real field recordings (10 everyday sound classes; attribution in ``NOTICE`` beside it).
* ``synth_student_int8.tflite``: the main job's kind of model, trained on the synthetic asc-synth scenes: a demo
  of the pipeline, not a model of real scenes (``--model`` it, or the main job's own export).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path

DEFAULT_MODEL_NAME = "esc10_student_int8.tflite"
SYNTH_MODEL_NAME = "synth_student_int8.tflite"
NOTICE_NAME = "NOTICE"
DEFAULT_MODEL_NOTE = ("the packaged model of real sounds: the student preset trained on ESC-10's field recordings, "
                      "10 classes: baby_cry, chainsaw, clock_tick, dog_bark, fire_crackling, helicopter, "
                      "person_sneeze, rain, rooster, sea_waves; its card has its cross-validated accuracy")


def packaged_path(name: str) -> AbstractContextManager[Path]:
    """A context manager giving a real file path to a packaged file (extracted if the package is zipped)."""
    return resources.as_file(resources.files("asc_edge.runtime.default_model") / name)


def default_model_path() -> AbstractContextManager[Path]:
    """The packaged default model (ESC-10)."""
    return packaged_path(DEFAULT_MODEL_NAME)


def synthetic_model_path() -> AbstractContextManager[Path]:
    """The packaged model of asc-synth's synthetic scenes (the main job's kind of model)."""
    return packaged_path(SYNTH_MODEL_NAME)
