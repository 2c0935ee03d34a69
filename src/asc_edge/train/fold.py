"""Fold SubSpectral Norm into the frequency-wise depthwise conv before export (exact in float).

SubSpectral Norm is a BatchNorm with one (scale, shift) per channel *and* frequency sub-band, so it cannot
disappear into the conv whose weights are shared across frequency. In eval mode it is the affine map
``a[c, band] * conv(x) + d[c, band]``. We move each channel's largest |scale| ``s[c]`` into the conv weights
(per-channel int8 quantisation absorbs it for free) and keep only the ratio ``a / s`` (|ratio| <= 1) and
the shift as a small per-band affine. That removes the huge per-tensor MUL scales that dead sub-bands cause
in int8. With one sub-band the ratio is 1 and the whole norm becomes the conv's bias.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from asc_edge.train.models import BCResNetMod, BroadcastBlock, SubSpectralNorm


class BandAffine(nn.Module):
    """``x * ratio[c, band] + shift[c, band]``: what remains of a folded SubSpectral Norm."""

    def __init__(self, ratio: torch.Tensor, shift: torch.Tensor, sub_bands: int) -> None:
        super().__init__()
        self.sub_bands = sub_bands
        self.register_buffer("ratio", ratio.reshape(1, -1, 1, 1).clone())
        self.register_buffer("shift", shift.reshape(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, f, t = x.shape
        banded = x.reshape(n, c * self.sub_bands, f // self.sub_bands, t)
        return (banded * self.ratio + self.shift).reshape(n, c, f, t)


def _fold_block(block: BroadcastBlock) -> None:
    ssn: SubSpectralNorm = block.ssn
    bn = ssn.bn
    bands = ssn.sub_bands
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (c * bands,) ordered channel-major
    shift = bn.bias - bn.running_mean * scale
    per_channel = scale.reshape(-1, bands).abs().amax(dim=1).clamp_min(1e-12)  # s[c]
    if bands == 1:
        per_channel = scale  # the whole (signed) scale goes into the conv
    conv: nn.Conv2d = block.freq_dw
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding,
                       groups=conv.groups, bias=bands == 1)
    folded.weight.copy_(conv.weight * per_channel.reshape(-1, 1, 1, 1))
    if bands == 1:
        folded.bias.copy_(shift)
        block.ssn = nn.Identity()
    else:
        ratio = scale.reshape(-1, bands) / per_channel.reshape(-1, 1)
        block.ssn = BandAffine(ratio, shift, bands)
    block.freq_dw = folded


@torch.no_grad()
def fold_subspectral_norms(model: BCResNetMod) -> BCResNetMod:
    """An eval-mode copy of ``model`` with every SubSpectral Norm folded; ``model`` is left untouched."""
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if isinstance(module, BroadcastBlock) and isinstance(module.ssn, SubSpectralNorm):
            _fold_block(module)
    return folded
