"""Quantisation-aware fine-tuning that exports as a plain float model.

The TFLite converter quantises conv weights per output channel, symmetrically, with scale max|w| / 127, after
folding the following BatchNorm (and, here, SubSpectral Norm's per-channel part) into them. That rounding is
equivariant to a positive per-channel scale, so fake-quantising the *unfolded* weights per output channel
with the same rule reproduces exactly the int8 weights the converter will write, provided the norms are frozen
(eval mode) during QAT. Activations are fake-quantised per tensor (asymmetric int8, running min/max) where the
int8 graph has tensors: after every norm, activation and block. The model keeps plain ``Conv2d`` state-dict
keys, so the QAT checkpoint exports through ONNX like any other and needs no QUANTIZE/DEQUANTIZE ops.
"""

from __future__ import annotations

import torch
from torch import nn

from asc_edge.train.models import BroadcastBlock, ResNorm

_OBSERVED = (ResNorm, BroadcastBlock, nn.ReLU, nn.SiLU, nn.MaxPool2d)


def fake_quantize_weight(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric int8 rounding with a straight-through gradient."""
    scale = weight.detach().abs().amax(dim=tuple(range(1, weight.ndim))).clamp_min(1e-12) / 127.0
    zero_point = torch.zeros(scale.shape, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(weight, scale, zero_point, 0, -127, 127)


class FakeQuantConv2d(nn.Conv2d):
    """A ``Conv2d`` whose forward uses int8-rounded weights (same parameters, same state-dict keys)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, fake_quantize_weight(self.weight), self.bias)


class ActivationQuantizer:
    """Forward hooks that fake-quantise module outputs to int8 with running (EMA) min/max ranges."""

    def __init__(self, momentum: float = 0.01) -> None:
        self.momentum = momentum
        self.ranges: dict[int, tuple[float, float]] = {}
        self.handles: list = []

    def hook(self, module: nn.Module, _inputs, output: torch.Tensor) -> torch.Tensor:
        key = id(module)
        low, high = float(output.detach().min()), float(output.detach().max())
        if module.training or key not in self.ranges:
            if key in self.ranges:
                old_low, old_high = self.ranges[key]
                low = old_low + self.momentum * (low - old_low)
                high = old_high + self.momentum * (high - old_high)
            self.ranges[key] = (low, high)
        low, high = self.ranges[key]
        low, high = min(low, 0.0), max(high, 0.0)
        scale = max(high - low, 1e-8) / 255.0
        zero_point = int(round(-128 - low / scale))
        return torch.fake_quantize_per_tensor_affine(output, scale, max(-128, min(127, zero_point)), -128, 127)


def enable_qat(model: nn.Module) -> ActivationQuantizer:
    """Switch ``model`` (in place) to QAT: fake-quant conv weights, fake-quant activations, frozen norms."""
    for module in model.modules():
        if type(module) is nn.Conv2d:
            module.__class__ = FakeQuantConv2d
    quantizer = ActivationQuantizer()
    for module in model.modules():
        if isinstance(module, _OBSERVED):
            quantizer.handles.append(module.register_forward_hook(quantizer.hook))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            quantizer.handles.append(module.register_forward_pre_hook(_use_running_statistics))
    return quantizer


def _use_running_statistics(module: nn.Module, _inputs) -> None:
    """BatchNorm (incl. SubSpectral Norm) frozen even under ``model.train()``: the converter's fold stays fixed."""
    module.training = False


def disable_qat(model: nn.Module, quantizer: ActivationQuantizer) -> None:
    """Back to a plain float model (in place); the weights are the latent float ones."""
    for handle in quantizer.handles:
        handle.remove()
    for module in model.modules():
        if type(module) is FakeQuantConv2d:
            module.__class__ = nn.Conv2d
