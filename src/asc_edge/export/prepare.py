"""The float model that gets exported: the checkpoint's model with SubSpectral Norm folded (exact in float)."""

from __future__ import annotations

from torch import nn

from asc_edge.train.checkpoint import model_from_checkpoint
from asc_edge.train.fold import fold_subspectral_norms


def exportable_model(checkpoint: dict, path: str = "checkpoint") -> nn.Module:
    """Eval-mode model rebuilt from ``checkpoint`` with every SubSpectral Norm folded."""
    return fold_subspectral_norms(model_from_checkpoint(checkpoint, path))
