"""DCASE evaluation of a model on a split of the cached features."""

from __future__ import annotations

import numpy as np
import torch

from asc_edge.data.metrics import evaluate_predictions
from asc_edge.train.data import Split, TrainingData


@torch.no_grad()
def predict_probabilities(model: torch.nn.Module, data: TrainingData, split: Split, device: torch.device,
                          batch_size: int = 64) -> np.ndarray:
    """Softmax probabilities ``(clips, classes)`` of ``split`` (model switched to eval mode and back)."""
    was_training = model.training
    model.eval()
    try:
        chunks = []
        for start in range(0, len(split), batch_size):
            logits = model(data.batch(split.rows[start:start + batch_size]).to(device))
            chunks.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(chunks).astype(np.float64)


def evaluate_split(model: torch.nn.Module, data: TrainingData, split: Split, device: torch.device) -> dict:
    """DCASE metrics (macro accuracy, log loss, per device and class, seen vs unseen, confusion)."""
    probabilities = predict_probabilities(model, data, split, device)
    return evaluate_predictions(split.labels, probabilities, split.devices, labels=data.labels,
                                seen_devices=data.seen_devices, unseen_devices=data.unseen_devices)
