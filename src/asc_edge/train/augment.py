"""Batch augmentations on log-mels ``(batch, 1, n_mels, n_frames)``, driven by a numpy Generator.

Every random choice comes from the generator the caller passes (seeded per epoch), so a resumed run replays
exactly the augmentation a straight run would have used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class AugmentConfig:
    mixup_alpha: float = 0.3  # Beta(alpha, alpha) mixing weight; 0 disables mixup
    freq_masks: int = 2
    freq_mask_fraction: float = 0.15  # each mask covers up to this fraction of the mel bands
    time_masks: int = 2
    time_mask_fraction: float = 0.1
    roll_fraction: float = 0.5  # circular time shift of up to this fraction of the clip
    gain_db: float = 0.0  # random level change of up to +-gain_db per clip; 0 disables


def random_gain(x: torch.Tensor, max_db: float, rng: np.random.Generator) -> torch.Tensor:
    """Each clip louder or quieter by its own uniform ``[-max_db, max_db]`` dB: on natural-log power features a
    gain of g dB adds ``g / 10 * ln 10`` to every bin (real recordings come at any level)."""
    if max_db <= 0:
        return x  # no draw from rng: runs without the lever keep their exact randomness
    decibels = torch.from_numpy(rng.uniform(-max_db, max_db, size=x.shape[0]).astype(np.float32))
    return x + (decibels * (np.log(10.0) / 10.0)).reshape(-1, *([1] * (x.dim() - 1)))


def time_roll(x: torch.Tensor, max_shift: int, rng: np.random.Generator) -> torch.Tensor:
    """Roll each clip circularly in time by its own random shift in ``[-max_shift, max_shift]``."""
    if max_shift < 1:
        return x
    frames = x.shape[-1]
    shifts = torch.from_numpy(rng.integers(-max_shift, max_shift + 1, size=x.shape[0]))
    index = (torch.arange(frames).unsqueeze(0) - shifts.unsqueeze(1)) % frames
    return x.gather(-1, index.reshape(x.shape[0], 1, 1, frames).expand_as(x))


def spec_augment(x: torch.Tensor, config: AugmentConfig, rng: np.random.Generator) -> torch.Tensor:
    """Frequency and time masks (SpecAugment), filled with each clip's mean so they carry no energy cue."""
    x = x.clone()
    batch, _, bins, frames = x.shape
    fill = x.mean(dim=(1, 2, 3))
    for axis, count, fraction, size in ((2, config.freq_masks, config.freq_mask_fraction, bins),
                                        (3, config.time_masks, config.time_mask_fraction, frames)):
        widest = int(fraction * size)
        if widest < 1:
            continue
        for i in range(batch):
            for _ in range(count):
                width = int(rng.integers(0, widest + 1))
                start = int(rng.integers(0, size - width + 1))
                if axis == 2:
                    x[i, :, start:start + width, :] = fill[i]
                else:
                    x[i, :, :, start:start + width] = fill[i]
    return x


def mixup(x: torch.Tensor, targets: torch.Tensor, alpha: float, rng: np.random.Generator,
          *extra: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Mix each clip with a random partner: inputs, soft ``targets`` and any ``extra`` soft targets alike."""
    if alpha <= 0 or x.shape[0] < 2:
        return (x, targets, *extra)
    lam = float(rng.beta(alpha, alpha))
    partner = torch.from_numpy(rng.permutation(x.shape[0]))
    mixed = [lam * t + (1 - lam) * t[partner] for t in (x, targets, *extra)]
    return tuple(mixed)
