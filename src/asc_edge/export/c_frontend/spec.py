"""What the generated C frontend computes, read off a model card and the file's input tensor, or one line
saying why the generator cannot express it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.input_norm import check_input_resnorm_spec
from asc_edge.export.c_frontend.cmsis import RFFT_SIZES
from asc_edge.plumbing.errors import ConfigError, ExportError

INPUT_TYPES = {"INT8": ("int8_t", -128, 127), "INT16": ("int16_t", -32768, 32767)}


@dataclass(frozen=True)
class FrontendSpec:
    config: FrontendConfig
    window_samples: int
    n_frames: int
    input_type: str  # "INT8" or "INT16"
    input_scale: float
    input_zero_point: int
    resnorm: dict | None  # the card's preprocessing.input_resnorm, or None

    @property
    def lead(self) -> int:
        """Window-relative index of frame 0's first windowed sample (negative: it starts in the zero padding)."""
        return LogMelFrontend(self.config).lead

    @property
    def inside(self) -> tuple[int, int]:
        """Frames ``first .. last - 1`` lie wholly inside a window: the ones overlapping windows can share."""
        return LogMelFrontend(self.config).inside(self.window_samples)


def _refuse(reason: str) -> ExportError:
    return ExportError(f"the C frontend generator cannot write this model's frontend: {reason}")


def frontend_spec(card: dict | None, io: dict) -> FrontendSpec:
    """The frontend of ``card`` for the C generator; :class:`ExportError` (one line) when it has none or the
    generator does not support it."""
    if not isinstance(card, dict) or "frontend_config" not in card:
        raise _refuse("the file has no asc-edge model card (frontend_config)")
    try:
        config = FrontendConfig.from_dict(card["frontend_config"])
    except ConfigError as exc:
        raise _refuse(str(exc)) from exc
    check_frontend_supported(config)
    window = card.get("window") or {}
    try:
        samples, n_mels, n_frames = int(window["samples"]), int(window["n_mels"]), int(window["n_frames"])
    except (KeyError, TypeError, ValueError):
        raise _refuse("the model card has no usable analysis window") from None
    if n_mels != config.n_mels or config.n_frames(samples) != n_frames:
        raise _refuse(f"the card's window ({samples} samples, {n_mels} x {n_frames}) does not fit its frontend")
    if samples % config.hop_length:  # the streaming frontend's windows start on one frame grid
        raise _refuse(f"the card's window of {samples} samples is not a multiple of the frame hop "
                      f"{config.hop_length}")
    resnorm = (card.get("preprocessing") or {}).get("input_resnorm")
    if resnorm is not None:
        try:
            check_input_resnorm_spec(resnorm)
        except ValueError as exc:
            raise _refuse(str(exc)) from exc
    tensor = io["input"]
    if tensor["type"] not in INPUT_TYPES or tensor.get("scale") is None:
        raise _refuse(f"input type {tensor['type']} is not a quantised int8 or int16 tensor")
    if list(tensor["shape"]) != [1, n_mels, n_frames, 1]:
        raise _refuse(f"input shape {tensor['shape']} is not (1, {n_mels}, {n_frames}, 1)")
    return FrontendSpec(config, samples, n_frames, tensor["type"], float(np.float32(tensor["scale"])),
                        int(tensor["zero_point"]), dict(resnorm) if resnorm else None)


def check_frontend_supported(config: FrontendConfig) -> None:
    """Refuse (one line) what the generated C does not compute: non-centred framing, an FFT size CMSIS-DSP's
    ``arm_rfft_fast_f32`` lacks."""
    if not config.center:
        raise _refuse(f"frontend {config.name!r} frames without centring (center=false); only centred framing "
                      "(librosa's center=True) is generated")
    if config.n_fft not in RFFT_SIZES:
        raise _refuse(f"frontend {config.name!r} has n_fft {config.n_fft}; arm_rfft_fast_f32 takes "
                      f"{', '.join(map(str, RFFT_SIZES))}")
