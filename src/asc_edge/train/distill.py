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

from asc_edge.errors import CheckpointError
from asc_edge.train.checkpoint import frontend_of, load_checkpoint, model_from_checkpoint
from asc_edge.train.data import TrainingData


def _teacher_key(paths: list[str]) -> str:
    digest = hashlib.sha1()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def _check_compatible(path: str, checkpoint: dict, data: TrainingData) -> None:
    if list(checkpoint["labels"]) != list(data.labels):
        raise CheckpointError(f"{path}: teacher labels {checkpoint['labels']} differ from the data's labels")
    if frontend_of(checkpoint).digest() != data.frontend.digest():
        raise CheckpointError(f"{path}: teacher was trained with frontend {frontend_of(checkpoint).name!r} "
                              f"({frontend_of(checkpoint).digest()}), the student uses {data.frontend.name!r} "
                              f"({data.frontend.digest()}); train both with the same --frontend")
    if list(checkpoint["input_shape"]) != list(data.input_shape):
        raise CheckpointError(f"{path}: teacher input {checkpoint['input_shape']} differs from the data's "
                              f"{list(data.input_shape)} (different clip duration)")


@torch.no_grad()
def teacher_logits(paths: list[str], data: TrainingData, batch_size: int = 64) -> np.ndarray:
    """Mean teacher logits ``(n_train_clips, n_classes)`` in training-split order, cached on disk."""
    checkpoints = [(p, load_checkpoint(p)) for p in paths]
    for path, checkpoint in checkpoints:
        _check_compatible(path, checkpoint, data)
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
