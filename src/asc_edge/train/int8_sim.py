"""The full-int8 TFLite graph of a device-preset BC-ResNet-Mod, simulated in PyTorch.

``asc-export`` turns the model into this TFLite graph (onnx2tf, then TensorFlow's MLIR quantizer; measured on
the student, firmware_notes/int8-export-measurements.md, "Converter-faithful QAT")::

    input (int8) -> PAD -> CONV_2D+ReLU (stem)
    per broadcast block:
      [CONV_2D+ReLU (transition: 1x1 expand)]
      DEPTHWISE_CONV_2D (frequency 3x1, SubSpectral Norm's per-channel scale folded in)
      [TRANSPOSE/RESHAPE -> MUL (ratio constant) -> ADD (shift constant) -> RESHAPE/TRANSPOSE] (sub-bands > 1)
      AVERAGE_POOL_2D over frequency (keeps its input's scale)
      DEPTHWISE_CONV_2D+ReLU (temporal 1x3, BatchNorm folded) -> CONV_2D (1x1)
      [ADD (x + frequency branch): not a transition]
      ADD+ReLU (shortcut + temporal branch, broadcast over frequency)
    MAX_POOL_2D after stages 1 and 2 (keeps its scale); CONV_2D (head 1x1) -> MEAN -> logits (int8)

:class:`Int8Simulation` computes that graph in float with every int8 rounding the file makes: the input, every
tensor the graph materialises (one named *point* each, with its own range), per-output-channel symmetric
weights of the folded convolutions, int32 biases at the input x weight scale, per-tensor constants of the
sub-band affine, and the frequency average rounded on the integer grid as TFLite's kernel does. The ranges
are the checkpoint's (``int8_ranges``) and ``asc-export`` writes exactly those into the file
(``asc_edge.export.ranges.inject_checkpoint_ranges``), so the checkpoint's simulated forward is a model of
the file, and quantisation-aware training (``asc-train --qat-epochs``) trains that model, with
straight-through gradients, instead of a graph the converter never emits.

Only what the device presets use is supported: ReLU in the temporal branch, no ResNorm after the stages, and
an input ResNorm of a per-clip mode (moved to the float32 feature step at export) or none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from asc_edge.audio.input_norm import MODES as FEATURE_NORM_MODES
from asc_edge.plumbing.errors import CheckpointError
from asc_edge.train.models import BCResNetMod, BroadcastBlock
from asc_edge.train.percentile_range import HISTOGRAM_BINS, PERCENTILE, clipped_range

INT8_MIN, INT8_MAX = -128, 127
SIMULATION_VERSION = 1


def supports(model: BCResNetMod) -> str | None:
    """Why ``model`` cannot be simulated (a phrase), or None when it can."""
    config = model.config
    if config.activation != "relu":
        return f"activation {config.activation!r} (the int8 simulation covers ReLU, the device presets' choice)"
    if config.stage_resnorm:
        return "ResNorm after every stage (the device presets keep only the input ResNorm)"
    if config.resnorm not in (*FEATURE_NORM_MODES, "none"):
        return f"input ResNorm mode {config.resnorm!r} (it would stay in the int8 graph)"
    return None


def affine_qparams(low: float, high: float) -> tuple[float, int]:
    """TFLite's per-tensor asymmetric int8 scale and zero point for a range (MLIR quantizer rule): the range is
    widened to hold 0, scale = (high - low) / 255 stored as float32, zero point = round(-128 - low / scale)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low <= 0.0:
        return 1.0, 0
    scale = float(np.float32((high - low) / (INT8_MAX - INT8_MIN)))
    zero_from_min = INT8_MIN - low / scale
    zero_point = INT8_MIN if zero_from_min < INT8_MIN else INT8_MAX if zero_from_min > INT8_MAX else \
        int(math.floor(zero_from_min + 0.5))
    return scale, zero_point


def fake_quant(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Per-tensor int8 rounding of ``x`` with the converter's parameters for ``[low, high]`` (straight-through)."""
    scale, zero_point = affine_qparams(low, high)
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, INT8_MIN, INT8_MAX)


def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def _straight_through(exact: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    """``exact`` in the forward pass, ``smooth``'s gradient in the backward pass."""
    return smooth + (exact - smooth).detach()


def fake_quant_weight(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric int8 (scale max|w| / 127, values -127..127), as the converter stores weights."""
    scale = weight_scales(weight).float()
    zero_point = torch.zeros(scale.shape, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(weight, scale, zero_point, 0, -127, 127)


def weight_scales(weight: torch.Tensor) -> torch.Tensor:
    """Each output channel's symmetric int8 scale, max|w| / 127 (the converter's per-channel weights)."""
    return weight.detach().abs().amax(dim=tuple(range(1, weight.ndim))).clamp_min(1e-12) / 127.0


def fake_quant_bias(bias: torch.Tensor, input_scale: float, weight: torch.Tensor) -> torch.Tensor:
    """The int32 bias at scale ``input scale x weight scale`` of each output channel."""
    scale = input_scale * weight_scales(weight)
    return _straight_through(torch.round(bias / scale) * scale, bias)


def fake_quant_constant(values: torch.Tensor) -> torch.Tensor:
    """A constant operand of MUL/ADD: per-tensor asymmetric int8 over its own range."""
    low, high = float(values.detach().min()), float(values.detach().max())
    return fake_quant(values, low, high)


def _bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """BatchNorm in eval mode as ``x * scale + shift`` (running statistics: frozen during QAT)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


class Int8Simulation(nn.Module):
    """The exported int8 graph of ``model`` in float (see the module docstring). ``ranges``: point -> (low, high).

    ``forward`` takes what the model takes (raw log-mels ``(n, 1, n_mels, n_frames)``) and returns the logits the
    file would give, dequantised. With ``quantize=False`` it is the float model in the graph's form, and
    ``observer`` (point -> callable) sees every point's float tensor: calibration.
    """

    def __init__(self, model: BCResNetMod, ranges: dict[str, tuple[float, float]] | None = None) -> None:
        super().__init__()
        problem = supports(model)
        if problem:
            raise CheckpointError(f"the int8 simulation does not support {problem}")
        self.model = model
        self.ranges: dict[str, tuple[float, float]] = dict(ranges or {})
        self.quantize = True
        self.observer = None
        self.train(model.training)

    @property
    def config(self):
        return self.model.config

    # -- points -----------------------------------------------------------------------------------------------
    def _point(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if self.observer is not None:
            self.observer(name, x.detach())
        if not self.quantize:
            return x
        if name not in self.ranges:
            raise CheckpointError(f"int8 simulation: no range for point {name!r}")
        return fake_quant(x, *self.ranges[name])

    def _relu(self, x: torch.Tensor) -> torch.Tensor:
        """The model's ReLU (fused into the op before it in the file): ReLU6 clamps at 6 as well, which the
        point's range then never exceeds."""
        return torch.clamp(x, 0.0, 6.0) if self.model.config.relu6 else torch.relu(x)

    def _scale(self, name: str) -> float:
        return affine_qparams(*self.ranges[name])[0] if self.quantize else 1.0

    def _conv(self, x: torch.Tensor, in_point: str, conv: nn.Conv2d, weight: torch.Tensor,
              bias: torch.Tensor | None) -> torch.Tensor:
        if self.quantize:
            if bias is not None:
                bias = fake_quant_bias(bias, self._scale(in_point), weight)
            weight = fake_quant_weight(weight)
        return functional.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)

    def _average_over_frequency(self, x: torch.Tensor, point: str) -> torch.Tensor:
        """AVERAGE_POOL_2D: int8 in and out at the input's scale, mean of the integers rounded half away."""
        mean = x.mean(dim=2, keepdim=True)
        if not self.quantize:
            return mean
        scale, zero_point = affine_qparams(*self.ranges[point])
        integers = torch.round(x / scale) + zero_point  # x is already on the grid: exact
        rounded = _round_half_away(integers.mean(dim=2, keepdim=True))
        return _straight_through((rounded - zero_point) * scale, mean)

    # -- graph ------------------------------------------------------------------------------------------------
    def _block(self, block: BroadcastBlock, x: torch.Tensor, x_point: str, name: str) -> tuple[torch.Tensor, str]:
        if block.transition:
            conv, bn = block.expand[0], block.expand[1]
            scale, shift = _bn_scale_shift(bn)
            x = self._point(f"{name}.expand", self._relu(self._conv(
                x, x_point, conv, conv.weight * scale.view(-1, 1, 1, 1), shift)))
            x_point = f"{name}.expand"
        conv, ssn = block.freq_dw, block.ssn
        scale, shift = _bn_scale_shift(ssn.bn)
        bands, channels = ssn.sub_bands, conv.out_channels
        if bands == 1:  # the whole norm folds into the convolution
            frequency = self._point(f"{name}.frequency", self._conv(
                x, x_point, conv, conv.weight * scale.view(-1, 1, 1, 1), shift))
            frequency_point = f"{name}.frequency"
        else:  # per-channel largest |scale| into the conv, the per-band ratio and shift stay (train/fold.py)
            per_channel = scale.view(channels, bands).abs().amax(dim=1).clamp_min(1e-12)
            frequency = self._point(f"{name}.frequency", self._conv(
                x, x_point, conv, conv.weight * per_channel.view(-1, 1, 1, 1), None))
            ratio = (scale.view(channels, bands) / per_channel.view(-1, 1)).reshape(1, -1, 1, 1)
            n, c, f, t = frequency.shape
            banded = frequency.reshape(n, c * bands, f // bands, t)
            if self.quantize:
                ratio, shift = fake_quant_constant(ratio), fake_quant_constant(shift)
            banded = self._point(f"{name}.band_scale", banded * ratio)
            banded = self._point(f"{name}.band_shift", banded + shift.view(1, -1, 1, 1))
            frequency = banded.reshape(n, c, f, t)
            frequency_point = f"{name}.band_shift"
        pooled = self._average_over_frequency(frequency, frequency_point)
        depthwise, bn, pointwise, dropout = block.temporal[0], block.temporal[1], block.temporal[3], \
            block.temporal[4]
        scale, shift = _bn_scale_shift(bn)
        temporal = self._point(f"{name}.temporal_relu", self._relu(self._conv(
            pooled, frequency_point, depthwise, depthwise.weight * scale.view(-1, 1, 1, 1), shift)))
        temporal = self._point(f"{name}.temporal", self._conv(
            temporal, f"{name}.temporal_relu", pointwise, pointwise.weight, None))
        temporal = dropout(temporal)
        shortcut = frequency if block.transition else self._point(f"{name}.residual", x + frequency)
        return self._point(f"{name}.out", self._relu(shortcut + temporal)), f"{name}.out"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        model = self.model
        x = self._point("input", model.input_norm(x))  # float32 feature step at export, then quantised
        stem_conv, stem_bn = model.stem[0], model.stem[1]
        scale, shift = _bn_scale_shift(stem_bn)
        x = self._point("stem", self._relu(self._conv(x, "input", stem_conv,
                                                      stem_conv.weight * scale.view(-1, 1, 1, 1), shift)))
        point = "stem"
        for i, stage in enumerate(model.stages):
            for j, layer in enumerate(stage):
                if isinstance(layer, BroadcastBlock):
                    x, point = self._block(layer, x, point, f"stages.{i}.{j}")
                elif isinstance(layer, nn.MaxPool2d):
                    x = layer(x)  # int8 max pool: same scale, exact
                else:
                    raise CheckpointError(f"int8 simulation: unexpected layer {type(layer).__name__}")
        head = model.head
        x = self._point("head", self._conv(x, point, head, head.weight, head.bias))
        return self._point("logits", x.mean(dim=(2, 3)))

    # -- ranges -----------------------------------------------------------------------------------------------
    def point_names(self, example: torch.Tensor) -> list[str]:
        """Every point of the graph, in order (one float pass on ``example``)."""
        names: list[str] = []
        self._observe(example[:1], lambda name, _x: names.append(name))
        return names

    def point_values(self, example: torch.Tensor) -> dict[str, np.ndarray]:
        """Every point's float values on ``example`` (what the converter's float graph computes there)."""
        values: dict[str, np.ndarray] = {}
        self._observe(example, lambda name, x: values.__setitem__(name, x.numpy()))
        return values

    @torch.no_grad()
    def _observe(self, batch: torch.Tensor, observer) -> None:
        was_training, was_quantizing = self.training, self.quantize
        self.eval()
        self.quantize, self.observer = False, observer
        try:
            self(batch)
        finally:
            self.quantize, self.observer = was_quantizing, None
            self.train(was_training)

    def calibrate(self, batches: Iterable[torch.Tensor], percentile: float = PERCENTILE,
                  bins: int = HISTOGRAM_BINS) -> None:
        """Ranges from the float graph's values on ``batches``: each point clipped to ``percentile`` of its
        values on both sides (two passes: min/max, then fixed histograms, so memory does not grow)."""
        batches = list(batches)
        extremes: dict[str, list[float]] = {}

        def span(name: str, x: torch.Tensor) -> None:
            low, high = float(x.min()), float(x.max())
            old = extremes.setdefault(name, [low, high])
            old[0], old[1] = min(old[0], low), max(old[1], high)

        for batch in batches:
            self._observe(batch, span)
        counts = {name: torch.zeros(bins, dtype=torch.float64) for name in extremes}

        def histogram(name: str, x: torch.Tensor) -> None:
            low, high = extremes[name]
            if high > low:
                counts[name] += torch.histc(x.double().flatten(), bins, low, high)

        for batch in batches:
            self._observe(batch, histogram)
        self.ranges = {name: clipped_range(counts[name].numpy(), low, high, percentile)
                       for name, (low, high) in extremes.items()}

    def ranges_record(self) -> dict:
        """What a checkpoint stores: the version and every point's range."""
        return {"version": SIMULATION_VERSION,
                "ranges": {name: [float(low), float(high)] for name, (low, high) in self.ranges.items()}}


RECORD_KEY = "int8_simulation"  # a checkpoint's int8 ranges: {"version": 1, "ranges": {point: [low, high]}}


def simulation_of_checkpoint(checkpoint: dict, model: BCResNetMod, path: str = "checkpoint") -> Int8Simulation | None:
    """The checkpoint's int8 simulation (eval mode), or None for a checkpoint without recorded ranges."""
    if RECORD_KEY not in checkpoint:
        return None
    n_mels, n_frames = (int(v) for v in checkpoint["input_shape"])
    example = torch.zeros(1, 1, n_mels, n_frames)
    return simulation_from_record(model, checkpoint[RECORD_KEY], example, path).eval()


def simulation_from_record(model: BCResNetMod, record: object, example: torch.Tensor,
                           path: str = "checkpoint") -> Int8Simulation:
    """The simulation a checkpoint records; refuses ranges that do not match the model's graph point for point."""
    if not isinstance(record, dict) or record.get("version") != SIMULATION_VERSION \
            or not isinstance(record.get("ranges"), dict):
        raise CheckpointError(f"{path}: its int8 ranges are not of a version this asc-edge reads "
                              f"(expected version {SIMULATION_VERSION})")
    simulation = Int8Simulation(model)
    expected = simulation.point_names(example)
    recorded = record["ranges"]
    for name in expected:
        if name not in recorded:
            raise CheckpointError(f"{path}: its int8 ranges lack the graph tensor {name!r} (edited, or from "
                                  "another model); retrain with asc-train --qat-epochs")
    for name, value in recorded.items():
        if name not in expected:
            raise CheckpointError(f"{path}: its int8 range {name!r} names no tensor of this model's graph")
        if not (isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, (int, float)) and math.isfinite(v) for v in value) and value[0] <= value[1]):
            raise CheckpointError(f"{path}: its int8 range for {name!r} is not a finite [low, high] pair")
    simulation.ranges = {name: (float(recorded[name][0]), float(recorded[name][1])) for name in expected}
    return simulation
