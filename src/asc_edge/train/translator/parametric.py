"""Device translation: learn, from parallel recordings, how each device turns reference-device log-mels
into its own, then use it to make reference-device training clips sound like other devices.

Why this design (a learned per-device response, dynamics and noise-floor model, not a conv net):
a recording device acts on a scene as a frequency response (a per-bin offset in the log-mel domain), a
compression of dynamics (clipping, AGC) and a noise floor that fills quiet bins. In natural-log mel power

    y = logaddexp(slope_d * (x - m) + m + gain_d[f], noise_d[f])        m = the clip's mean level

captures all three with 2 * n_mels + 1 numbers per device. It fits to parallel pairs on CPU in seconds, cannot
hallucinate scene content (it only reshapes levels), needs little data (TAU has only ~100 parallel segments
per class for devices b, c, s1-s3) and is readable. What it misses (time-varying effects, residual spread)
is kept as a per-bin residual standard deviation, added as noise when translating. The fit is checked on
held-out pairs: the translated reference must be closer to the real device recording than the untranslated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from asc_edge.audio.config import FrontendConfig
from asc_edge.plumbing.errors import CheckpointError
from asc_edge.plumbing.version import __version__
from asc_edge.train.data import TrainingData
from asc_edge.train.translator.common import log_unit, split_parallel_pairs, to_log_mels

FORMAT = "asc-edge-translator"


def device_response(natural: torch.Tensor, gain: torch.Tensor, noise: torch.Tensor,
                    slope: torch.Tensor) -> torch.Tensor:
    """The device model in natural-log mel power: ``logaddexp(slope * (x - m) + m + gain, noise)``.

    ``natural``: ``(batch, n_mels, frames)``; ``gain``/``noise`` broadcast per mel bin, ``slope`` per clip or
    scalar; ``m`` is each clip's mean level.
    """
    mean = natural.mean(dim=(1, 2), keepdim=True)
    return torch.logaddexp(slope * (natural - mean) + mean + gain, noise)


@dataclass
class DeviceTranslator:
    devices: tuple[str, ...]
    gain: torch.Tensor  # (devices, n_mels), natural-log units
    noise: torch.Tensor  # (devices, n_mels), log noise floor
    slope: torch.Tensor  # (devices,)
    residual_std: torch.Tensor  # (devices, n_mels), in the frontend's unit
    frontend: FrontendConfig
    fit_report: dict

    def translate(self, x: torch.Tensor, device_index: torch.Tensor, generator: torch.Generator | None = None,
                  residual_noise: bool = True) -> torch.Tensor:
        """Translate log-mels ``(batch, 1, n_mels, frames)`` of the reference device into devices ``device_index``."""
        unit = log_unit(self.frontend)
        y = device_response(x[:, 0] / unit, self.gain[device_index].unsqueeze(2),
                            self.noise[device_index].unsqueeze(2), self.slope[device_index].reshape(-1, 1, 1))
        return to_log_mels(y, self.frontend, self.residual_std, device_index, generator, residual_noise)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "package_version": __version__, "devices": list(self.devices),
                "gain": self.gain, "noise": self.noise, "slope": self.slope, "residual_std": self.residual_std,
                "frontend_config": self.frontend.to_dict(), "fit_report": self.fit_report}


def parametric_translator_from_dict(data: dict, path: str) -> DeviceTranslator:
    try:
        return DeviceTranslator(devices=tuple(data["devices"]), gain=data["gain"], noise=data["noise"],
                                slope=data["slope"], residual_std=data["residual_std"],
                                frontend=FrontendConfig.from_dict(data["frontend_config"]),
                                fit_report=data["fit_report"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: translator file is incomplete ({exc})") from exc


def _fit_device(ref: torch.Tensor, dev: torch.Tensor, floor: float, steps: int) -> tuple[torch.Tensor, ...]:
    """Least-squares fit of (gain, noise, slope) in natural-log units by Adam on full batches."""
    n_mels = ref.shape[1]
    gain = (dev - ref).mean(dim=(0, 2)).clone().requires_grad_(True)
    noise = torch.full((n_mels,), floor + 1.0).clone()
    noise = torch.minimum(noise, dev.amin(dim=(0, 2)) - 1.0).requires_grad_(True)
    slope_raw = torch.zeros(1, requires_grad=True)  # slope = exp(slope_raw), positive
    optimizer = torch.optim.Adam([gain, noise, slope_raw], lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        pred = device_response(ref, gain.reshape(1, -1, 1), noise.reshape(1, -1, 1), slope_raw.exp())
        loss = (pred - dev).pow(2).mean()
        loss.backward()
        optimizer.step()
    return gain.detach(), noise.detach(), slope_raw.detach().exp()[0]


def fit_translator(data: TrainingData, steps: int = 300, holdout: float = 0.2, seed: int = 0,
                   max_pairs: int = 512) -> DeviceTranslator:
    """Fit one response/noise/dynamics model per training device from its parallel pairs with device ``a``."""
    unit = log_unit(data.frontend)
    floor = math.log(data.frontend.log_floor)
    devices, gains, noises, slopes, stds, report = [], [], [], [], [], {}
    for split in split_parallel_pairs(data, holdout, seed, max_pairs):
        gain, noise, slope = _fit_device(split.fit_ref, split.fit_dev, floor, steps)
        devices.append(split.device)
        gains.append(gain)
        noises.append(noise)
        slopes.append(slope)
        ref, dev = split.check_ref, split.check_dev
        pred = device_response(ref, gain.reshape(1, -1, 1), noise.reshape(1, -1, 1), slope)
        residual = (pred - dev) * unit
        stds.append(residual.std(dim=(0, 2)))
        report[split.device] = {"pairs_fit": split.pairs_fit, "pairs_held_out": split.pairs_held_out,
                                "mse_untranslated": float(((ref - dev) * unit).pow(2).mean()),
                                "mse_translated": float(residual.pow(2).mean()), "slope": float(slope)}
    return DeviceTranslator(devices=tuple(devices), gain=torch.stack(gains), noise=torch.stack(noises),
                            slope=torch.stack(slopes), residual_std=torch.stack(stds), frontend=data.frontend,
                            fit_report=report)
