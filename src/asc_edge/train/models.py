"""ResNorm and BC-ResNet-Mod (QTI DCASE2021 Task 1A), readable top to bottom.

Input: log-mel ``(batch, 1, n_mels, n_frames)``. Output: class logits ``(batch, n_classes)``.

    stem      ResNorm -> 5x5 conv stride 2 -> BN -> ReLU
    stage 1   Transition(2c -> c)      + Broadcast(c)            [-> ResNorm] -> 2x2 max-pool
    stage 2   Transition(c -> 1.5c)    + Broadcast(1.5c)         [-> ResNorm] -> 2x2 max-pool
    stage 3   Transition(1.5c -> 2c)   + Broadcast(2c), dilated  [-> ResNorm]
    stage 4   Transition(2c -> 2.5c)   + 2 x Broadcast(2.5c), dilated [-> ResNorm]
    head      1x1 conv -> classes, global average pooling

The bracketed ResNorms are ``stage_resnorm`` (on for the teacher, off for the int8 device presets).

Design for int8 export: normalisation is written with plain reductions (no InstanceNormalization op), and
SubSpectral Norm uses eps 1e-3 so that a dead sub-band cannot get a ~1/sqrt(1e-5) = 316 scale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional

RESNORM_MODES = ("instance", "frequency", "batch", "none")


class ResNorm(nn.Module):
    """``lam * x + Norm(x)``: removes device-specific statistics while keeping a shortcut to the input.

    ``instance``: per clip and channel over (frequency, time), no affine (the DCASE2021 report);
    ``frequency``: per clip and frequency bin over (channel, time) (the workshop version);
    ``batch``: BatchNorm2d, for ablations (``lam`` unused); ``none``: identity.
    """

    def __init__(self, mode: str = "instance", lam: float = 0.1, channels: int = 1, eps: float = 1e-5) -> None:
        super().__init__()
        if mode not in RESNORM_MODES:
            raise ValueError(f"ResNorm mode must be one of {RESNORM_MODES}, got {mode!r}")
        self.mode, self.lam, self.eps = mode, lam, eps
        self.batch_norm = nn.BatchNorm2d(channels) if mode == "batch" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "none":
            return x
        if self.batch_norm is not None:
            return self.batch_norm(x)
        dims = (2, 3) if self.mode == "instance" else (1, 3)
        mean = x.mean(dim=dims, keepdim=True)
        var = (x - mean).pow(2).mean(dim=dims, keepdim=True)
        return self.lam * x + (x - mean) / torch.sqrt(var + self.eps)


class SubSpectralNorm(nn.Module):
    """BatchNorm with separate statistics for each of ``sub_bands`` frequency sub-bands."""

    def __init__(self, channels: int, sub_bands: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.sub_bands = sub_bands
        self.bn = nn.BatchNorm2d(channels * sub_bands, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, f, t = x.shape
        if f % self.sub_bands:
            raise ValueError(f"{f} frequency bins do not split into {self.sub_bands} sub-bands")
        return self.bn(x.reshape(n, c * self.sub_bands, f // self.sub_bands, t)).reshape(n, c, f, t)


def relu(bounded: bool) -> nn.Module:
    """ReLU, or ReLU6 for ``ModelConfig.relu6`` (TFLite fuses either into the conv or ADD before it)."""
    return nn.ReLU6() if bounded else nn.ReLU()


class BroadcastBlock(nn.Module):
    """Broadcasted residual block; ``in_channels != out_channels`` makes it a transition block."""

    def __init__(self, in_channels: int, out_channels: int, sub_bands: int, dilation: int = 1,
                 dropout: float = 0.1, activation: str = "silu", relu6: bool = False) -> None:
        super().__init__()
        self.transition = in_channels != out_channels
        c = out_channels
        self.expand = nn.Sequential(nn.Conv2d(in_channels, c, 1, bias=False), nn.BatchNorm2d(c), relu(relu6)) \
            if self.transition else nn.Identity()
        self.freq_dw = nn.Conv2d(c, c, (3, 1), padding=(1, 0), groups=c, bias=False)
        self.ssn = SubSpectralNorm(c, sub_bands)
        self.temporal = nn.Sequential(
            nn.Conv2d(c, c, (1, 3), padding=(0, dilation), dilation=(1, dilation), groups=c, bias=False),
            nn.BatchNorm2d(c), nn.SiLU() if activation == "silu" else relu(relu6), nn.Conv2d(c, c, 1, bias=False),
            nn.Dropout2d(dropout))
        self.out_activation = relu(relu6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.expand(x)
        frequency_features = self.ssn(self.freq_dw(x))
        # Mean over frequency written as a full-height average pool: onnx2tf then keeps the following depthwise
        # convs as DEPTHWISE_CONV_2D (a ReduceMean here made it emit grouped CONV_2D). int(): static for tracing.
        pooled = functional.avg_pool2d(frequency_features, (int(frequency_features.shape[2]), 1))
        temporal = self.temporal(pooled)  # broadcast back over frequency by the additions below
        shortcut = frequency_features if self.transition else x + frequency_features
        return self.out_activation(shortcut + temporal)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model; saved in checkpoints."""

    width: int = 40
    n_classes: int = 10
    n_mels: int = 256
    resnorm: str = "instance"
    resnorm_lambda: float = 0.1
    # InstanceNorm's own 1e-5, as the method defines it. The device presets' only ResNorm is the input one, which
    # asc-export moves out of the int8 graph into the float32 feature step (asc_edge.audio.input_norm), so its
    # RSQRT never meets an int8 scale (firmware_notes/int8-export-measurements.md).
    resnorm_eps: float = 1e-5
    stage_resnorm: bool = True  # ResNorm after every stage as well as at the input
    activation: str = "silu"  # of the temporal branch: "silu" (BC-ResNet) or "relu" (fuses into the int8 conv)
    # Every ReLU bounded at 6 (ReLU6): an int8 lever measured in firmware_notes/int8-export-measurements.md;
    # a bounded activation gets finer int8 steps, if the float model keeps its accuracy.
    relu6: bool = False
    sub_bands: int = 4  # at most; each stage uses the largest count that divides its frequency bins
    dropout: float = 0.1
    blocks: tuple[int, int, int, int] = (1, 1, 1, 2)  # broadcast blocks after each stage's transition
    # Explicit channel counts (structured pruning writes them); None derives them from ``width``.
    stage_widths: tuple[int, int, int, int] | None = None
    stem_width: int | None = None

    def channels(self) -> tuple[int, tuple[int, ...]]:
        """``(stem channels, channels of each stage)``."""
        c = self.width
        stages = self.stage_widths or (c, int(1.5 * c), 2 * c, int(2.5 * c))
        return (self.stem_width or 2 * c), tuple(stages)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """Inverse of :meth:`to_dict` (JSON and checkpoints turn tuples into lists)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        values = dict(data)
        for key in ("blocks", "stage_widths"):
            if values.get(key) is not None:
                values[key] = tuple(int(v) for v in values[key])
        return cls(**values)


def _largest_divisor_at_most(n: int, limit: int) -> int:
    """SubSpectral Norm needs sub-bands that divide the bins; small inputs (40 mels) get fewer bands."""
    return max(d for d in range(1, max(1, limit) + 1) if n % d == 0)


class BCResNetMod(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.activation not in ("silu", "relu"):
            raise ValueError(f"activation must be 'silu' or 'relu', got {config.activation!r}")
        self.config = config
        stem_width, widths = config.channels()
        dilations = (1, 1, 2, 2)  # later stages dilate in time only: a limited receptive field

        def norm(channels: int) -> ResNorm:
            return ResNorm(config.resnorm, config.resnorm_lambda, channels, config.resnorm_eps)

        # Frequency bins at each stage: the stem halves them, stages 1 and 2 end in a 2x2 pool.
        bins = [(config.n_mels + 1) // 2]
        bins += [bins[0] // 2, bins[0] // 4, bins[0] // 4]
        self.sub_bands = tuple(_largest_divisor_at_most(f, config.sub_bands) for f in bins)
        self.input_norm = norm(1)
        self.stem = nn.Sequential(nn.Conv2d(1, stem_width, 5, stride=2, padding=2, bias=False),
                                  nn.BatchNorm2d(stem_width), relu(config.relu6))
        stages = []
        previous = stem_width
        for i, (width, dilation, n_blocks, bands) in enumerate(zip(widths, dilations, config.blocks,
                                                                    self.sub_bands)):
            layers: list[nn.Module] = [BroadcastBlock(previous, width, bands, dilation, config.dropout,
                                                      config.activation, config.relu6)]
            layers += [BroadcastBlock(width, width, bands, dilation, config.dropout, config.activation, config.relu6)
                       for _ in range(n_blocks)]
            if config.stage_resnorm:
                layers.append(norm(width))
            if i < 2:
                layers.append(nn.MaxPool2d(2))
            stages.append(nn.Sequential(*layers))
            previous = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Conv2d(previous, config.n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(self.input_norm(x)))
        return self.head(x).mean(dim=(2, 3))
