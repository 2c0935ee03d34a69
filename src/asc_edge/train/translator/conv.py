"""The report's kind of device translator: a small spectrogram-to-spectrogram conv net per device.

The QTI report translates reference-device spectrograms into other devices with a learned network; our
default (``train/translator/parametric.py``) is a per-device parametric response. This module is the network kind,
trained on the same parallel pairs and checked on the same held-out pairs, so the two can be compared:
``[translator] kind = "conv"`` in an ``asc-train recipe`` config. Per device:

    y = x + gain[f] + net(x - mean(x))          in natural-log mel power

where ``net`` is three 5x3 (frequency x time) convolutions with ReLUs. Its last layer starts at zero, so an
untrained translator is the mean per-bin offset, and the net learns only what the offset misses (level-
dependent and local time-frequency effects). Like the parametric one, the residual spread on held-out pairs
is added as noise when translating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from asc_edge.audio.config import FrontendConfig
from asc_edge.plumbing.errors import CheckpointError
from asc_edge.plumbing.version import __version__
from asc_edge.train.data import TrainingData
from asc_edge.train.translator.common import log_unit, split_parallel_pairs, to_log_mels

FORMAT = "asc-edge-conv-translator"
WIDTH = 8


class DeviceNet(nn.Module):
    """One device's translation in natural-log units: ``x + gain + net(x - mean)``."""

    def __init__(self, n_mels: int, width: int = WIDTH) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.zeros(n_mels))
        self.body = nn.Sequential(nn.Conv2d(1, width, (5, 3), padding=(2, 1)), nn.ReLU(),
                                  nn.Conv2d(width, width, (5, 3), padding=(2, 1)), nn.ReLU(),
                                  nn.Conv2d(width, 1, (5, 3), padding=(2, 1)))
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, natural: torch.Tensor) -> torch.Tensor:  # (batch, n_mels, frames)
        centred = natural - natural.mean(dim=(1, 2), keepdim=True)
        return natural + self.gain.reshape(1, -1, 1) + self.body(centred.unsqueeze(1)).squeeze(1)


@dataclass
class ConvTranslator:
    devices: tuple[str, ...]
    nets: nn.ModuleList
    residual_std: torch.Tensor  # (devices, n_mels), in the frontend's unit
    frontend: FrontendConfig
    fit_report: dict

    @torch.no_grad()
    def translate(self, x: torch.Tensor, device_index: torch.Tensor, generator: torch.Generator | None = None,
                  residual_noise: bool = True) -> torch.Tensor:
        """Translate log-mels ``(batch, 1, n_mels, frames)`` of the reference device into devices ``device_index``."""
        unit = log_unit(self.frontend)
        natural = x[:, 0] / unit
        y = torch.empty_like(natural)
        for index in device_index.unique().tolist():
            chosen = device_index == index
            y[chosen] = self.nets[index](natural[chosen])
        return to_log_mels(y, self.frontend, self.residual_std, device_index, generator, residual_noise)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "package_version": __version__, "devices": list(self.devices),
                "width": WIDTH, "n_mels": int(self.residual_std.shape[1]), "state_dict": self.nets.state_dict(),
                "residual_std": self.residual_std, "frontend_config": self.frontend.to_dict(),
                "fit_report": self.fit_report}


def conv_translator_from_dict(data: dict, path: str) -> ConvTranslator:
    try:
        nets = nn.ModuleList(DeviceNet(int(data["n_mels"]), int(data["width"])) for _ in data["devices"])
        nets.load_state_dict(data["state_dict"])
        return ConvTranslator(devices=tuple(data["devices"]), nets=nets.eval(), residual_std=data["residual_std"],
                              frontend=FrontendConfig.from_dict(data["frontend_config"]),
                              fit_report=data["fit_report"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: conv translator file is incomplete ({exc})") from exc


def fit_conv_translator(data: TrainingData, steps: int = 300, holdout: float = 0.2, seed: int = 0,
                        max_pairs: int = 512, batch: int = 32) -> ConvTranslator:
    """Fit one :class:`DeviceNet` per training device on its parallel pairs (the parametric fit's split)."""
    unit = log_unit(data.frontend)
    torch.manual_seed(seed)
    n_mels = data.input_shape[0]
    devices, nets, stds, report = [], nn.ModuleList(), [], {}
    # The parametric fit's split (same seed: same held-out pairs), so the two kinds compare on the same pairs.
    for split in split_parallel_pairs(data, holdout, seed, max_pairs):
        ref, dev = split.fit_ref, split.fit_dev
        net = DeviceNet(n_mels)
        with torch.no_grad():
            net.gain.copy_((dev - ref).mean(dim=(0, 2)))
        optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
        order = np.random.default_rng([seed, len(nets)])
        for _ in range(steps):
            pick = torch.from_numpy(order.choice(len(ref), size=min(batch, len(ref)), replace=False))
            optimizer.zero_grad()
            loss = (net(ref[pick]) - dev[pick]).pow(2).mean()
            loss.backward()
            optimizer.step()
        net.eval()
        ref_check, dev_check = split.check_ref, split.check_dev
        with torch.no_grad():
            residual = (net(ref_check) - dev_check) * unit
        devices.append(split.device)
        nets.append(net)
        stds.append(residual.std(dim=(0, 2)))
        report[split.device] = {"pairs_fit": split.pairs_fit, "pairs_held_out": split.pairs_held_out,
                                "mse_untranslated": float(((ref_check - dev_check) * unit).pow(2).mean()),
                                "mse_translated": float(residual.pow(2).mean())}
    return ConvTranslator(devices=tuple(devices), nets=nets, residual_std=torch.stack(stds).detach(),
                          frontend=data.frontend, fit_report=report)
