"""Knowledge distillation: soft targets from one or several teacher checkpoints.

Teacher logits are computed once per clip on the un-augmented training features (averaged over the
teachers: an ensemble) and cached next to the feature cache, keyed by the teachers' bytes. During training
they are softened with temperature T and mixed exactly like the hard labels when mixup is on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from asc_edge.train.checkpoint import load_checkpoint, model_from_checkpoint, require_compatible
from asc_edge.train.data import TrainingData


def _teacher_key(paths: list[str]) -> str:
    digest = hashlib.sha1()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


@torch.no_grad()
def teacher_logits(paths: list[str], data: TrainingData, batch_size: int = 64) -> np.ndarray:
    """Mean teacher logits ``(n_train_clips, n_classes)`` in training-split order, cached on disk."""
    checkpoints = [(p, load_checkpoint(p)) for p in paths]
    for path, checkpoint in checkpoints:
        require_compatible(checkpoint, path, "teacher", data.labels, data.frontend, data.input_shape)
    cache = data.features.path / f"teacher-{_teacher_key(paths)}.npy"
    if cache.is_file():
        cached = np.load(cache)
        if cached.shape == (len(data.train), len(data.labels)):
            return cached
    total = np.zeros((len(data.train), len(data.labels)), dtype=np.float64)
    for path, checkpoint in checkpoints:
        model = model_from_checkpoint(checkpoint, path)
        for start in range(0, len(data.train), batch_size):
            rows = data.train.rows[start:start + batch_size]
            total[start:start + rows.size] += model(data.batch(rows)).double().numpy()
    logits = (total / len(checkpoints)).astype(np.float32)
    try:
        tmp = cache.with_suffix(".partial.npy")
        np.save(tmp, logits)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only cache folder only costs recomputation next time
    return logits


def distillation_loss(student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T^2 * KL(teacher_T || student_T)`` (Hinton et al.): the T^2 keeps gradients comparable across T."""
    log_student = functional.log_softmax(student_logits / temperature, dim=1)
    kl = (teacher_probs * (teacher_probs.clamp_min(1e-12).log() - log_student)).sum(dim=1).mean()
    return kl * temperature**2
