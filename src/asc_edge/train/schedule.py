"""Optimisers and the per-step learning-rate schedule: linear warm-up, then cosine decay to zero."""

from __future__ import annotations

import math

import torch

from asc_edge.plumbing.errors import ConfigError

DEFAULT_LR = {"adamw": 1e-2, "sgd": 0.05}  # tuned on asc-synth: 3e-3 learnt ~2x slower
DEFAULT_WEIGHT_DECAY = {"adamw": 1e-2, "sgd": 1e-3}


def make_optimizer(name: str, params, lr: float | None, weight_decay: float | None) -> torch.optim.Optimizer:
    if name not in DEFAULT_LR:
        raise ConfigError(f"--optimizer must be one of {', '.join(DEFAULT_LR)}, got {name!r}")
    lr = DEFAULT_LR[name] if lr is None else lr
    weight_decay = DEFAULT_WEIGHT_DECAY[name] if weight_decay is None else weight_decay
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def warmup_cosine(total_steps: int, warmup_steps: int):
    """LambdaLR factor: ``step / warmup`` during warm-up, then half a cosine from 1 down to 0."""

    def factor(step: int) -> float:
        if warmup_steps > 0 and step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor
