"""The asc-edge model card: one type and one rule set for the export that writes it and the runtime that reads it.

The card (JSON in the file's ``Model.metadata`` entry named ``asc_edge``) says what the runtime needs to use
the file with no side files: the labels, the log-mel frontend, the analysis window, the float32 preprocessing
before quantisation, and provenance. :class:`ModelCard` builds it at export
(:meth:`ModelCard.from_checkpoint`), checks it there before any conversion, checks a card read from a file
(:meth:`ModelCard.from_file_card`) and interprets it for the runtime (:attr:`ModelCard.frontend`,
:attr:`ModelCard.window`, :attr:`ModelCard.input_resnorm`). Both sides go through the same
:meth:`ModelCard._checked`, so a card the export accepts is a card the runtime reads, and the reverse.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field

from asc_edge.audio.config import LOG_TYPES, MEL_NORMS, MEL_SCALES, WINDOWS, FrontendConfig
from asc_edge.audio.input_norm import check_input_resnorm_spec
from asc_edge.modelfile.digest import DIGEST_FIELD
from asc_edge.modelfile.structure import GraphSummary
from asc_edge.plumbing.errors import ConfigError, ModelFileError
from asc_edge.plumbing.version import __version__

CARD_FORMAT = "asc-edge-model"
CARD_FORMAT_VERSION = 1  # the newest model card format this runtime reads (and the one export writes)
MAX_LABEL_CHARACTERS = 100
MAX_WINDOW_SECONDS = 600
MAX_WINDOW_FRAMES = 1 << 20
# Bounds of a sane frontend, checked before FrontendConfig sees the values (it checks how they fit together):
# far wider than any preset, tight enough that nothing a card says allocates gigabytes.
FRONTEND_BOUNDS = {"sample_rate": (1000, 384_000, True), "n_fft": (16, 65_536, True),
                   "win_length": (16, 65_536, True), "hop_length": (1, 65_536, True),
                   "n_mels": (1, 1024, True), "fmin": (0, 192_000, False), "fmax": (1, 192_000, False),
                   "log_floor": (1e-30, 1.0, False)}
FRONTEND_CHOICES = {"window": WINDOWS, "log": LOG_TYPES, "mel_scale": MEL_SCALES, "mel_norm": MEL_NORMS}


def label_problem(labels: object) -> str | None:
    """The one label rule, for export and runtime alike: a non-empty list of distinct names, each a string of
    1 to 100 printable characters that is not blank. Commas and non-ASCII letters are names like any other
    (csv output quotes them). Returns what is wrong as a phrase, or None."""
    if not isinstance(labels, (list, tuple)) or not labels:
        return f"must be a non-empty list of names, got {type(labels).__name__}"
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            return f"must hold names (strings); item {index} is {type(label).__name__}"
        if not label.strip():
            return f"must hold non-empty names that are not blank; item {index} is {label!r}"
        if len(label) > MAX_LABEL_CHARACTERS:
            return (f"must hold names of at most {MAX_LABEL_CHARACTERS} characters; item {index} "
                    f"({label[:24]!r}...) has {len(label)}")
        if not label.isprintable():
            return f"must hold printable names; item {index} ({label!r}) holds a control character"
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        return f"names {duplicates[0]!r} more than once"
    return None


@dataclass(frozen=True)
class Window:
    """The analysis window the model was exported for."""

    samples: int
    sample_rate: int
    n_mels: int
    n_frames: int

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate


def _field_error(name: str, problem: str) -> ModelFileError:
    return ModelFileError(f"model card field {name!r} {problem}")


def _number(card: dict, name: str, key: str, low: float, high: float, integer: bool = False) -> float:
    value = card.get(key)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise _field_error(name, f"must be {'an integer' if integer else 'a finite number'}, got {value!r}")
    if not low <= value <= high:
        raise _field_error(name, f"must be between {low:g} and {high:g}, got {value!r}")
    return value


def _frontend(config: object) -> FrontendConfig:
    """The card's frontend: each value within its sane bounds or choices, then as a whole (FrontendConfig)."""
    if not isinstance(config, dict):
        raise _field_error("frontend_config", f"must be an object, got {type(config).__name__}")
    for key, (low, high, integer) in FRONTEND_BOUNDS.items():
        if key in config:
            _number(config, f"frontend_config.{key}", key, low, high, integer)
    for key, choices in FRONTEND_CHOICES.items():
        if key in config and config[key] not in choices:
            raise _field_error(f"frontend_config.{key}", f"must be one of {', '.join(choices)}, got {config[key]!r}")
    if "center" in config and not isinstance(config["center"], bool):
        raise _field_error("frontend_config.center", f"must be true or false, got {config['center']!r}")
    if "name" in config and not isinstance(config["name"], str):
        raise _field_error("frontend_config.name", "must be a string")
    try:
        return FrontendConfig.from_dict(config)
    except ConfigError as exc:
        raise ModelFileError(f"model card field 'frontend_config': {exc}") from exc


def _window(window: object, frontend: FrontendConfig) -> Window:
    if not isinstance(window, dict):
        raise _field_error("window", f"must be an object, got {type(window).__name__}")
    rate = frontend.sample_rate
    samples = _number(window, "window.samples", "samples", 1, MAX_WINDOW_SECONDS * rate, integer=True)
    n_mels = _number(window, "window.n_mels", "n_mels", 1, FRONTEND_BOUNDS["n_mels"][1], integer=True)
    n_frames = _number(window, "window.n_frames", "n_frames", 1, MAX_WINDOW_FRAMES, integer=True)
    if "seconds" in window and not math.isclose(_number(window, "window.seconds", "seconds", 0, MAX_WINDOW_SECONDS),
                                                samples / rate, rel_tol=1e-3):
        raise _field_error("window.seconds", f"is {window['seconds']!r}, not samples / sample_rate")
    if n_mels != frontend.n_mels:
        raise _field_error("window.n_mels", f"is {n_mels} mel bands, but frontend {frontend.name!r} gives "
                                            f"{frontend.n_mels}")
    expected_frames = frontend.n_frames(samples)
    if n_frames != expected_frames:
        raise _field_error("window.n_frames", f"is {n_frames} but {samples} samples give {expected_frames} frames")
    return Window(samples, rate, n_mels, n_frames)


def _input_resnorm(card: dict) -> dict | None:
    """The float32 steps between the log-mels and the integer input (``asc_edge.audio.input_norm``); None for a
    file that has none (exported with ``--input-norm graph``, or older)."""
    preprocessing = card.get("preprocessing") or {}
    if not isinstance(preprocessing, dict):
        raise _field_error("preprocessing", f"must be an object, got {type(preprocessing).__name__}")
    spec = preprocessing.get("input_resnorm")
    if spec is not None:
        try:
            check_input_resnorm_spec(spec)
        except ValueError as exc:
            raise ModelFileError(f"the model card's {exc}") from exc
    return spec


def _check_graph(labels: list, window: Window, graph: GraphSummary) -> None:
    """What only the file can tell: one label per output, the window's input shape, quantised int I/O."""
    outputs = graph.output.shape[-1] if graph.output.shape else 1
    if len(labels) != outputs or len(graph.output.shape) != 2 or graph.output.shape[0] != 1:
        raise _field_error("labels", f"has {len(labels)} names for a model output of shape {list(graph.output.shape)}")
    # int8, or int16 for a file exported with --activations int16 (int8 weights either way); input and output
    # share the type.
    if graph.input.type not in ("INT8", "INT16") or graph.input.shape != (1, window.n_mels, window.n_frames, 1):
        raise _field_error("window", f"says ({window.n_mels} mels, {window.n_frames} frames) but the model input is "
                                     f"{graph.input.type} {list(graph.input.shape)}")
    if graph.output.type != graph.input.type or graph.input.scale is None or graph.output.scale is None:
        raise ModelFileError("the model's input and output must be quantised int8 (or both int16) tensors")


@dataclass(frozen=True)
class ModelCard:
    """A checked model card: what the runtime uses (labels, frontend, window, input ResNorm) and every field as
    written (:meth:`to_dict`)."""

    labels: tuple[str, ...]
    frontend: FrontendConfig
    window: Window
    input_resnorm: dict | None
    fields: dict = field(repr=False, compare=False)

    @property
    def file_sha256(self) -> str | None:
        """The digest the card records (absent until export seals the file)."""
        return self.fields.get(DIGEST_FIELD)

    @property
    def preset(self) -> str | None:
        return self.fields.get("preset")

    def to_dict(self) -> dict:
        """Every field, as a fresh JSON-ready object."""
        return copy.deepcopy(self.fields)

    def to_json(self) -> str:
        """The card as compact, key-sorted JSON (how it is stored in the file)."""
        return json.dumps(self.fields, sort_keys=True, separators=(",", ":"))

    @classmethod
    def _checked(cls, card: object, graph: GraphSummary | None = None) -> ModelCard:
        """Every card rule, field by field, raising :class:`ModelFileError` naming the first bad field; the
        checks against the model's graph only when ``graph`` is given (at export the file does not exist yet)."""
        if not isinstance(card, dict):
            raise ModelFileError(f"the model card must be a JSON object, got {type(card).__name__}")
        if card.get("format", CARD_FORMAT) != CARD_FORMAT:
            raise _field_error("format", f"must be {CARD_FORMAT!r}, got {card['format']!r}")
        if "format_version" in card:
            version = _number(card, "format_version", "format_version", 1, 1_000_000, integer=True)
            if version > CARD_FORMAT_VERSION:
                raise _field_error("format_version", f"is {version}: this file needs a newer asc-edge "
                                                     f"(this one reads version {CARD_FORMAT_VERSION})")
        labels = card.get("labels")
        problem = label_problem(labels)
        if problem is not None:
            raise _field_error("labels", problem)
        if card.get("preset") is not None and not isinstance(card["preset"], str):
            raise _field_error("preset", f"must be a name, got {card['preset']!r}")
        if "frontend_config" not in card:
            raise _field_error("frontend_config", "is missing")
        frontend = _frontend(card["frontend_config"])
        window = _window(card.get("window"), frontend)
        input_resnorm = _input_resnorm(card)
        if graph is not None:
            _check_graph(labels, window, graph)
        return cls(tuple(labels), frontend, window, input_resnorm, card)

    @classmethod
    def from_file_card(cls, card: object, graph: GraphSummary) -> ModelCard:
        """The card read from a file, checked against itself and the file's graph (see :meth:`_checked`)."""
        return cls._checked(card, graph)

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, checkpoint_bytes: bytes, frontend: FrontendConfig,
                        preprocessing: dict | None = None) -> ModelCard:
        """The card asc-export embeds for ``checkpoint`` (``frontend``: its frontend config), checked by the
        rules a reader applies; raises :class:`ModelFileError` naming the first field a reader would refuse."""
        labels = checkpoint["labels"]
        problem = label_problem(labels)  # first, as the reader does: before the window is even computed
        if problem is not None:
            raise _field_error("labels", problem)
        shape = checkpoint["input_shape"]
        if (not isinstance(shape, (list, tuple)) or len(shape) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
            raise _field_error("window", f"needs the checkpoint's input_shape as two positive integers "
                                         f"(n_mels, n_frames), got {shape!r}")
        n_mels, n_frames = shape
        if n_frames < 2:
            raise _field_error("window.n_frames", f"is {n_frames}: fewer than 2 frames give no audio window")
        samples = frontend.window_samples(n_frames)
        fields = {
            "format": CARD_FORMAT, "format_version": CARD_FORMAT_VERSION, "package_version": __version__,
            "preset": checkpoint.get("preset"), "labels": list(labels),
            "frontend_config": frontend.to_dict(),
            "window": {"samples": samples, "seconds": samples / frontend.sample_rate,
                       "n_mels": n_mels, "n_frames": n_frames},
            "input_layout": "NHWC int8 (1, n_mels, n_frames, 1) of natural-log mel energies"
                            + (", after preprocessing.input_resnorm" if preprocessing else ""),
            # The float32 steps the runtime applies to the log-mels before quantising (asc_edge.audio.input_norm).
            "preprocessing": {"input_resnorm": preprocessing} if preprocessing else {},
            "model_config": checkpoint["model_config"],
            "checkpoint_sha256": hashlib.sha256(checkpoint_bytes).hexdigest(),
        }
        try:
            return cls._checked(fields)
        except ModelFileError as exc:
            if "'window" not in str(exc):
                raise
            raise ModelFileError(f"{exc} (the checkpoint's input_shape is {list(shape)})") from exc

    @classmethod
    def problem_before_export(cls, checkpoint: dict, frontend: FrontendConfig) -> str | None:
        """Why a reader would refuse the card built for ``checkpoint`` (one line naming the field), or None."""
        try:
            cls.from_checkpoint(checkpoint, b"", frontend)
        except ModelFileError as exc:
            return str(exc)
        return None
