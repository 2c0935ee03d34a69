"""Pruning: structured (whole channels, the exported model really shrinks) and unstructured (magnitude).

Structured pruning works per *channel space*. In BC-ResNet-Mod every layer of a stage reads and writes the
same channels (the residual adds tie them together), so a stage is pruned as one: a channel's importance is
the sum of its normalised BatchNorm / SubSpectral Norm scales across the stage, the weakest channels are
dropped from every tensor of the stage and from the next stage's input, and a narrower model is built
(``ModelConfig.stage_widths``). Unstructured pruning zeroes the smallest conv weights globally and keeps them
zero while fine-tuning; it lowers the DCASE size (non-zero parameters) but not the dense int8 file.
"""

from __future__ import annotations

import re
from dataclasses import replace

import torch
from torch import nn

from asc_edge.plumbing.errors import ConfigError
from asc_edge.train.models import BCResNetMod, BroadcastBlock

_STAGE_KEY = re.compile(r"^stages\.(\d+)\.(\d+)\.(.+)$")


def _stage_importance(stage: nn.Sequential, channels: int) -> torch.Tensor:
    score = torch.zeros(channels)
    for block in stage:
        if not isinstance(block, BroadcastBlock):
            continue
        gammas = [block.ssn.bn.weight.detach().abs().reshape(channels, -1).mean(dim=1),
                  block.temporal[1].weight.detach().abs()]
        if block.transition:
            gammas.append(block.expand[1].weight.detach().abs())
        for gamma in gammas:
            score += gamma / gamma.mean().clamp_min(1e-12)
    return score


def _keep(score: torch.Tensor, fraction: float) -> torch.Tensor:
    keep = max(1, int(round(score.numel() * (1.0 - fraction))))
    return torch.sort(torch.topk(score, keep).indices).values


@torch.no_grad()
def prune_channels(model: BCResNetMod, fraction: float) -> BCResNetMod:
    """A narrower copy of ``model`` without the ``fraction`` least important channels of each stage and the stem."""
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"structured pruning fraction must be in [0, 1), got {fraction}")
    stem_width, widths = model.config.channels()
    stem_keep = _keep(model.stem[1].weight.detach().abs(), fraction)
    stage_keep = [_keep(_stage_importance(stage, w), fraction) for stage, w in zip(model.stages, widths)]
    config = replace(model.config, stem_width=int(stem_keep.numel()),
                     stage_widths=tuple(int(k.numel()) for k in stage_keep))
    pruned = BCResNetMod(config)
    source = model.state_dict()
    target = {}
    for key, value in pruned.state_dict().items():
        tensor = source[key]
        if tensor.ndim == 0:  # num_batches_tracked
            target[key] = tensor
            continue
        match = _STAGE_KEY.match(key)
        if key.startswith("stem."):
            target[key] = tensor[stem_keep]
        elif key.startswith("head."):
            target[key] = tensor[:, stage_keep[-1]] if key.endswith("weight") else tensor
        elif match:
            stage, rest = int(match.group(1)), match.group(3)
            keep = stage_keep[stage]
            previous = stem_keep if stage == 0 else stage_keep[stage - 1]
            if rest.startswith("ssn.bn."):
                bands = tensor.numel() // widths[stage]
                index = (keep.unsqueeze(1) * bands + torch.arange(bands)).reshape(-1)
                target[key] = tensor[index]
            elif rest == "expand.0.weight":
                target[key] = tensor[keep][:, previous]
            elif rest == "temporal.3.weight":
                target[key] = tensor[keep][:, keep]
            else:
                target[key] = tensor[keep]
        else:  # input ResNorm: a single input channel, nothing to prune
            target[key] = tensor
        if target[key].shape != value.shape:
            raise RuntimeError(f"pruning bug: {key} became {tuple(target[key].shape)}, need {tuple(value.shape)}")
    pruned.load_state_dict(target)
    return pruned.train(model.training)


def prunable_weights(model: nn.Module) -> dict[str, nn.Parameter]:
    """Conv weights with more than a handful of elements (the 1-channel input norm and biases stay dense)."""
    return {name: p for name, p in model.named_parameters() if name.endswith("weight") and p.ndim == 4}


@torch.no_grad()
def magnitude_masks(model: nn.Module, sparsity: float) -> dict[str, torch.Tensor]:
    """Global magnitude pruning: zero the ``sparsity`` fraction of smallest conv weights; returns the masks."""
    if not 0.0 <= sparsity < 1.0:
        raise ConfigError(f"unstructured pruning sparsity must be in [0, 1), got {sparsity}")
    weights = prunable_weights(model)
    magnitudes = torch.cat([p.abs().reshape(-1) for p in weights.values()])
    n_zero = int(sparsity * magnitudes.numel())
    threshold = torch.kthvalue(magnitudes, n_zero).values if n_zero > 0 else torch.tensor(-1.0)
    masks = {name: (p.abs() > threshold) for name, p in weights.items()}
    apply_masks(model, masks)
    return masks


def masks_from_zeros(model: nn.Module) -> dict[str, torch.Tensor]:
    """Masks of an already pruned model (its zero weights), e.g. when resuming a pruning fine-tune."""
    return {name: p.detach() != 0 for name, p in prunable_weights(model).items()}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Re-zero pruned weights (after every optimiser step, so they stay pruned)."""
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        params[name].mul_(mask)
