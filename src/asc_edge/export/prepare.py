"""The float model that gets exported: the checkpoint's model with SubSpectral Norm folded (exact in float),
and, by default, its input ResNorm moved out of the graph into the runtime's float32 feature step.
"""

from __future__ import annotations

from torch import nn

from asc_edge.audio.input_norm import INPUT_NORM_PLACES, MODES, input_resnorm_spec
from asc_edge.train.checkpoint import model_from_checkpoint
from asc_edge.train.fold import fold_subspectral_norms
from asc_edge.train.models import ResNorm

__all__ = ["INPUT_NORM_PLACES", "exportable_model", "graph_inputs", "split_input_norm"]


def exportable_model(checkpoint: dict, path: str = "checkpoint") -> nn.Module:
    """Eval-mode model rebuilt from ``checkpoint`` with every SubSpectral Norm folded."""
    return fold_subspectral_norms(model_from_checkpoint(checkpoint, path))


def split_input_norm(model: nn.Module) -> tuple[nn.Module, dict | None]:
    """Take the input ResNorm out of ``model`` (in place): returns the model and the card's preprocessing spec.

    Only the per-clip modes (instance, frequency) move; a batch-statistics or absent norm stays in the graph and
    the spec is ``None``. The float model then computes ``graph(apply_input_resnorm(x, spec))`` = ``model(x)``.
    """
    norm = getattr(model, "input_norm", None)
    if not isinstance(norm, ResNorm) or norm.mode not in MODES:
        return model, None
    model.input_norm = nn.Identity()
    return model, input_resnorm_spec(norm.mode, norm.lam, norm.eps)


def graph_inputs(features, spec: dict | None):
    """What the exported graph takes for log-mels ``features``: normalised when the card says so."""
    from asc_edge.audio.input_norm import apply_input_resnorm

    return features if spec is None else apply_input_resnorm(features, spec)
