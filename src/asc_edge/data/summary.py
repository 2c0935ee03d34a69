"""A readable summary of a TAU-layout dataset and its features (what `asc-features` prints)."""

from __future__ import annotations

import numpy as np

from asc_edge.audio.labels import DEVICES
from asc_edge.data.features import FeatureSet
from asc_edge.data.tau import TauDataset


def _count_by_device(clips) -> dict[str, int]:
    counts = {d: 0 for d in DEVICES}
    for c in clips:
        counts[c.device] = counts.get(c.device, 0) + 1
    return {d: n for d, n in counts.items() if n}


def layout_summary(dataset: TauDataset) -> dict:
    train_locations = {c.identifier for c in dataset.train}
    evaluate_locations = {c.identifier for c in dataset.evaluate}
    return {
        "clips": len(dataset.clips),
        "train": _count_by_device(dataset.train),
        "evaluate": _count_by_device(dataset.evaluate),
        "train_parallel_groups": len(dataset.parallel_groups(dataset.train)),
        "evaluate_parallel_groups": len(dataset.parallel_groups(dataset.evaluate)),
        "train_locations": len(train_locations),
        "evaluate_locations": len(evaluate_locations),
        "shared_locations": len(train_locations & evaluate_locations),
    }


def device_band_levels(dataset: TauDataset, features: FeatureSet, n_bands: int = 4) -> dict[str, list[float]]:
    """Mean log-mel level of the evaluate fold per device in ``n_bands`` equal mel ranges.

    The evaluate fold holds the same segments for every device, so differences here are device effects.
    """
    out = {}
    for device in DEVICES:
        clips = [c for c in dataset.evaluate if c.device == device]
        if not clips:
            continue
        feats = np.asarray(features.features[features.rows(clips)])
        bands = np.array_split(np.arange(feats.shape[1]), n_bands)
        out[device] = [float(feats[:, b, :].mean()) for b in bands]
    return out


def format_features(features: FeatureSet, seconds: float) -> list[str]:
    """The feature cache's lines: shape per clip, computed or reused, where."""
    _, n_mels, n_frames = features.features.shape
    how = "reused" if features.reused else f"computed in {seconds:.1f} s"
    return [f"features ({features.config.name}, {n_mels} mels x {n_frames} frames per clip): {how}",
            f"  cache: {features.path}"]


def format_summary(layout: dict, features: FeatureSet, levels: dict[str, list[float]], seconds: float) -> str:
    lines = [f"{layout['clips']} clips"]
    for fold in ("train", "evaluate"):
        cells = "  ".join(f"{d}:{n}" for d, n in layout[fold].items())
        lines.append(f"  {fold:<8} {sum(layout[fold].values()):>6}  {cells}")
    lines.append(f"  parallel groups: train {layout['train_parallel_groups']}, "
                 f"evaluate {layout['evaluate_parallel_groups']}")
    lines.append(f"  locations: train {layout['train_locations']}, evaluate {layout['evaluate_locations']}, "
                 f"shared {layout['shared_locations']}")
    lines += format_features(features, seconds)
    lines.append("mean log-mel per device, evaluate fold (low -> high mel quarter):")
    for device, values in levels.items():
        lines.append(f"  {device:<3} " + " ".join(f"{v:7.2f}" for v in values))
    return "\n".join(lines)
