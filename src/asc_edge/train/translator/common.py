"""What every translator kind shares: the parallel pairs they fit and check on, split the same seeded way for
each kind (so all kinds are checked on the same held-out pairs), and the step from a translation in natural-log
units back to the frontend's log-mels."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.labels import REFERENCE_DEVICE
from asc_edge.plumbing.errors import DataError
from asc_edge.train.data import TrainingData


def log_unit(frontend: FrontendConfig) -> float:
    """Multiplier from natural-log mel power to the frontend's log unit (1 for ln, 10/ln 10 for dB)."""
    return 10.0 / math.log(10.0) if frontend.log == "db" else 1.0


def to_log_mels(natural: torch.Tensor, frontend: FrontendConfig, residual_std: torch.Tensor,
                device_index: torch.Tensor, generator: torch.Generator | None, residual_noise: bool) -> torch.Tensor:
    """A translation in natural-log units ``(batch, n_mels, frames)`` -> the frontend's log-mels
    ``(batch, 1, n_mels, frames)``: floored, scaled, and (``residual_noise``) with the held-out residual spread
    of each target device added as noise. Shared by every translator kind."""
    y = (natural.clamp_min(math.log(frontend.log_floor)) * log_unit(frontend)).unsqueeze(1)
    if residual_noise:
        std = residual_std[device_index].reshape(-1, 1, residual_std.shape[1], 1)
        y = y + std * torch.randn(y.shape, generator=generator)
    return y


def parallel_pairs(data: TrainingData) -> dict[str, list[tuple[int, int]]]:
    """Feature-cache row pairs ``(reference row, device row)`` of the same segment, per training device."""
    rows = {c.filename: int(r) for c, r in zip(data.dataset.train, data.train.rows)}
    pairs: dict[str, list[tuple[int, int]]] = {}
    for group in data.dataset.parallel_groups(data.dataset.train).values():
        reference = group.get(REFERENCE_DEVICE)
        if reference is None:
            continue
        for device, clip in group.items():
            if device != REFERENCE_DEVICE:
                pairs.setdefault(device, []).append((rows[reference.filename], rows[clip.filename]))
    return dict(sorted(pairs.items()))


@dataclass(frozen=True)
class PairSplit:
    """One device's parallel pairs with the reference device, in natural-log units ``(pairs, n_mels, frames)``:
    the pairs to fit on, and the held-out pairs to check on (the fit pairs when too few to hold any out)."""

    device: str
    fit_ref: torch.Tensor
    fit_dev: torch.Tensor
    check_ref: torch.Tensor
    check_dev: torch.Tensor
    pairs_fit: int
    pairs_held_out: int


def split_parallel_pairs(data: TrainingData, holdout: float, seed: int, max_pairs: int) -> Iterator[PairSplit]:
    """Every device's fit / held-out split, in the same seeded order for every translator kind, so that all
    kinds are checked on the same held-out pairs."""
    pairs = parallel_pairs(data)
    if not pairs:
        raise DataError(f"{data.dataset.root}: the training split has no parallel recordings of reference "
                        f"device '{REFERENCE_DEVICE}' and another device; device translation needs them")
    unit = log_unit(data.frontend)
    rng = np.random.default_rng(seed)
    for device, device_pairs in pairs.items():
        chosen = rng.permutation(len(device_pairs))[:max_pairs]
        n_held = int(round(holdout * chosen.size)) if chosen.size >= 5 else 0
        held, fit = chosen[:n_held], chosen[n_held:]

        def load(index: np.ndarray, side: int, device_pairs: list = device_pairs) -> torch.Tensor:
            rows = np.array([device_pairs[i][side] for i in index], dtype=np.int64)
            return data.batch(rows)[:, 0] / unit

        check = held if held.size else fit
        yield PairSplit(device, load(fit, 0), load(fit, 1), load(check, 0), load(check, 1), int(fit.size),
                        int(held.size))
