"""Size accounting of torch models: parameters, non-zero parameters, DCASE2021 size and MACs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from asc_edge.data.metrics import dcase_size_bytes


@dataclass(frozen=True)
class ModelSize:
    parameters: int
    nonzero_parameters: int
    dcase_size_bytes: float  # non-zero parameters x bytes per parameter
    macs: int


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass on an input of ``input_shape`` (batch included).

    Counts convolutions (any groups, stride, dilation) and linear layers, which dominate CNN cost;
    normalisation, activations and pooling are left out as is usual for DCASE complexity reports.
    """
    total = 0

    def conv_hook(module: nn.Conv2d | nn.Conv1d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        kernel = 1
        for k in module.kernel_size:
            kernel *= k
        per_output = kernel * module.in_channels // module.groups
        total += output.numel() * per_output

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return total


def parameter_counts(model: nn.Module, bytes_per_parameter: float = 1.0) -> tuple[int, int, float]:
    """``(parameters, non-zero parameters, DCASE2021 size in bytes)`` of ``model``'s current weights."""
    params = [p.detach().cpu().numpy() for p in model.parameters()]
    return (sum(p.size for p in params), int(sum((p != 0).sum() for p in params)),
            dcase_size_bytes(params, bytes_per_parameter))


def model_size(model: nn.Module, input_shape: tuple[int, ...], bytes_per_parameter: float = 1.0) -> ModelSize:
    """Parameter counts, DCASE2021 size (int8 by default) and MACs per ``input_shape`` forward pass."""
    parameters, nonzero, dcase_bytes = parameter_counts(model, bytes_per_parameter)
    return ModelSize(parameters=parameters, nonzero_parameters=nonzero, dcase_size_bytes=dcase_bytes,
                     macs=count_macs(model, input_shape))
