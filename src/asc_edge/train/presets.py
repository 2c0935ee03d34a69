"""Named model presets. The int8 TFLite *file* is the budget, not the weight count.

The file holds int8 weights, an int32 bias and ~24 B of per-channel quantisation parameters per conv output
channel, tensor names and graph structure, so channel count costs bytes as much as weights do. The budgets
below were chosen from measured exports (figures next to each preset); ``asc-export`` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from asc_edge.plumbing.errors import ConfigError
from asc_edge.train.models import ModelConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: ModelConfig
    max_tflite_bytes: int | None  # the int8 file budget the preset is sized for (None: not for devices)


_INT8_FRIENDLY = {"stage_resnorm": False, "activation": "relu"}

PRESETS: dict[str, Preset] = {
    p.name: p for p in (
        Preset("teacher", "the paper's ~315 k-parameter BC-ResNet-Mod (width 80): a KD teacher, not for devices",
               ModelConfig(width=80), None),
        # Device presets are built for int8: ResNorm at the input only and ReLU in the temporal branch. With
        # ResNorm after every stage and SiLU, int8 top-1 agreement with PyTorch was 0.83 and the accuracy drop
        # 3.4 pp; without, 0.89 and no drop, and the file shrank 80.5 -> 70.7 KB (firmware_notes/
        # int8-export-measurements.md, "Device presets"). The teacher keeps the full design.
        Preset("student", "device model, int8 file <= 96,000 bytes",
               ModelConfig(width=18, **_INT8_FRIENDLY), 96_000),
        Preset("tiny", "smallest device model, int8 file <= 64,000 bytes",
               ModelConfig(width=12, blocks=(1, 1, 1, 1), **_INT8_FRIENDLY), 64_000),
        # The student's design as wide as the whole 128,000-byte budget allows once the file is compacted
        # (asc_edge.export.compact), for the dcase profile. Measured with benchmarks/width_bytes.py (untrained
        # exports; the bytes depend on the graph, not the weights): width 42 -> 123,088 B, 43 -> 126,896 B
        # (too close to the budget once the card or the graph grows a little). 93,943 parameters. Not shown to
        # help on asc-synth (not measured: no CPU time); it is for real data, where the paper's larger models do.
        # Its 10 s dcase input needs a ~3.5 MB TFLite Micro arena: a Pi-class model, not a microcontroller's.
        Preset("max", "largest device model: int8 file <= 128,000 bytes on the dcase profile",
               ModelConfig(width=42, **_INT8_FRIENDLY), 128_000),
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
