"""Named model presets. The int8 TFLite *file* is the budget, not the weight count.

The file holds int8 weights, an int32 bias and ~24 B of per-channel quantisation parameters per conv output
channel, tensor names and graph structure, so channel count costs bytes as much as weights do. The budgets
below were chosen from measured exports (figures next to each preset); ``asc-export`` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from asc_edge.errors import ConfigError
from asc_edge.train.models import ModelConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: ModelConfig
    max_tflite_bytes: int | None  # the int8 file budget the preset is sized for (None: not for devices)


PRESETS: dict[str, Preset] = {
    p.name: p for p in (
        Preset("teacher", "the paper's ~315 k-parameter BC-ResNet-Mod (width 80): a KD teacher, not for devices",
               ModelConfig(width=80), None),
        # Measured int8 files (small profile, onnx2tf -> TFLiteConverter, names kept / names stripped):
        # width 18 = 90,248 / 81,368 B; width 12 with one broadcast block per stage = 65,728 / 57,336 B.
        Preset("student", "device model, int8 file <= 96,000 bytes", ModelConfig(width=18), 96_000),
        Preset("tiny", "smallest device model, int8 file <= 64,000 bytes",
               ModelConfig(width=12, blocks=(1, 1, 1, 1)), 64_000),
    )
}


def preset_config(name: str, n_mels: int, n_classes: int) -> ModelConfig:
    """The preset's model for an input of ``n_mels`` bands and ``n_classes`` labels."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    if n_mels < 8:
        raise ConfigError(f"preset {name!r} needs at least 8 mel bands (the stem and two poolings "
                          f"divide them by 8), got {n_mels}")
    return replace(PRESETS[name].config, n_mels=n_mels, n_classes=n_classes)
