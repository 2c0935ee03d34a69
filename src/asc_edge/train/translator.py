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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from asc_edge import __version__
from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.labels import REFERENCE_DEVICE
from asc_edge.plumbing.errors import CheckpointError, DataError
from asc_edge.train.checkpoint import load_file
from asc_edge.train.data import TrainingData

if TYPE_CHECKING:
    from asc_edge.train.translator_conv import ConvTranslator

FORMAT = "asc-edge-translator"


def _log_unit(frontend: FrontendConfig) -> float:
    """Multiplier from natural-log mel power to the frontend's log unit (1 for ln, 10/ln 10 for dB)."""
    return 10.0 / math.log(10.0) if frontend.log == "db" else 1.0


def device_response(natural: torch.Tensor, gain: torch.Tensor, noise: torch.Tensor,
                    slope: torch.Tensor) -> torch.Tensor:
    """The device model in natural-log mel power: ``logaddexp(slope * (x - m) + m + gain, noise)``.

    ``natural``: ``(batch, n_mels, frames)``; ``gain``/``noise`` broadcast per mel bin, ``slope`` per clip or
    scalar; ``m`` is each clip's mean level.
    """
    mean = natural.mean(dim=(1, 2), keepdim=True)
    return torch.logaddexp(slope * (natural - mean) + mean + gain, noise)


def to_log_mels(natural: torch.Tensor, frontend: FrontendConfig, residual_std: torch.Tensor,
                device_index: torch.Tensor, generator: torch.Generator | None, residual_noise: bool) -> torch.Tensor:
    """A translation in natural-log units ``(batch, n_mels, frames)`` -> the frontend's log-mels
    ``(batch, 1, n_mels, frames)``: floored, scaled, and (``residual_noise``) with the held-out residual spread
    of each target device added as noise. Shared by every translator kind."""
    y = (natural.clamp_min(math.log(frontend.log_floor)) * _log_unit(frontend)).unsqueeze(1)
    if residual_noise:
        std = residual_std[device_index].reshape(-1, 1, residual_std.shape[1], 1)
        y = y + std * torch.randn(y.shape, generator=generator)
    return y


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
        unit = _log_unit(self.frontend)
        y = device_response(x[:, 0] / unit, self.gain[device_index].unsqueeze(2),
                            self.noise[device_index].unsqueeze(2), self.slope[device_index].reshape(-1, 1, 1))
        return to_log_mels(y, self.frontend, self.residual_std, device_index, generator, residual_noise)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "package_version": __version__, "devices": list(self.devices),
                "gain": self.gain, "noise": self.noise, "slope": self.slope, "residual_std": self.residual_std,
                "frontend_config": self.frontend.to_dict(), "fit_report": self.fit_report}


def load_translator(path: str) -> DeviceTranslator:
    data = load_file(path, kind="translator")
    if data.get("format") == "asc-edge-conv-translator":  # the network kind (train/translator_conv.py)
        from asc_edge.train.translator_conv import conv_translator_from_dict
        return conv_translator_from_dict(data, path)
    if data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an asc-edge device translator (train one with asc-train translator)")
    try:
        return DeviceTranslator(devices=tuple(data["devices"]), gain=data["gain"], noise=data["noise"],
                                slope=data["slope"], residual_std=data["residual_std"],
                                frontend=FrontendConfig.from_dict(data["frontend_config"]),
                                fit_report=data["fit_report"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: translator file is incomplete ({exc})") from exc


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
    unit = _log_unit(data.frontend)
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
    unit = _log_unit(data.frontend)
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


KINDS = ("parametric", "conv")  # conv: train/translator_conv.py, the report's spectrogram-to-spectrogram kind


def fit_of_kind(kind: str) -> Callable[..., DeviceTranslator | ConvTranslator]:
    """The fit function of a translator kind; both take ``(data, steps=, holdout=, seed=, max_pairs=)``."""
    if kind == "conv":  # lazily, as load_translator: the conv module imports this one
        from asc_edge.train.translator_conv import fit_conv_translator
        return fit_conv_translator
    if kind != "parametric":
        raise ValueError(f"unknown translator kind {kind!r} (one of {', '.join(KINDS)})")
    return fit_translator


def format_fit_report(translator: DeviceTranslator | ConvTranslator) -> str:
    """The held-out fit per device, for either kind (the conv translator has no single dynamics slope)."""
    lines = ["device  pairs(fit/held-out)  MSE untranslated  MSE translated  slope"]
    for device, r in translator.fit_report.items():
        slope = f"{r['slope']:.3f}" if "slope" in r else "-"
        lines.append(f"{device:<7} {r['pairs_fit']:>8}/{r['pairs_held_out']:<10} {r['mse_untranslated']:>16.3f} "
                     f"{r['mse_translated']:>15.3f}  {slope}")
    return "\n".join(lines)
