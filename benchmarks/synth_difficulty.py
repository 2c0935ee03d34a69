"""How hard is an asc-synth dataset? A plain CNN with BatchNorm, trained on the fold1 train split.

Prints macro accuracy per device on the evaluate fold, seen vs unseen devices. The point of asc-synth is a
clear gap between device ``a`` and the unseen devices s4..s6, with a decent model well below 100 %.

    python benchmarks/synth_difficulty.py --clips-per-class 60 --duration 5 --epochs 20 --seeds 0 1 2
    python benchmarks/synth_difficulty.py --data DIR          # an existing TAU-layout folder
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from asc_edge.audio.labels import DEVICES, SCENES, UNSEEN_DEVICES
from asc_edge.audio.profiles import get_profile
from asc_edge.data.features import build_feature_cache
from asc_edge.data.metrics import evaluate_predictions
from asc_edge.data.synth.generate import generate_dataset
from asc_edge.data.tau import load_tau


class PlainCNN(nn.Module):
    """BatchNorm on the input, three conv-BN-ReLU-pool blocks, global average pooling, linear head."""

    def __init__(self, n_classes: int = len(SCENES), width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm2d(1)]
        channels = 1
        for out in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean(dim=(2, 3)))


def train_and_evaluate(x_train, y_train, x_eval, y_eval, devices_eval, epochs: int, seed: int) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PlainCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(xt))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            loss = nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    model.eval()
    with torch.no_grad():
        probs = torch.cat([model(torch.from_numpy(x_eval[i:i + 256])).softmax(1)
                           for i in range(0, len(x_eval), 256)]).numpy()
    return evaluate_predictions(y_eval, probs, devices_eval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="existing TAU-layout folder (default: generate one)")
    parser.add_argument("--clips-per-class", type=int, default=60)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--frontend", default="small")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    config = get_profile(args.frontend)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data) if args.data else Path(tmp) / "synth"
        started = time.monotonic()
        if not args.data:
            generate_dataset(root, args.clips_per_class, args.duration, config.sample_rate, args.data_seed,
                             progress=False)
        dataset = load_tau(root)
        features = build_feature_cache(dataset, config, cache_root=Path(tmp) / "cache", progress=False)
        x_train = np.asarray(features.features[features.rows(dataset.train)])[:, None]
        x_eval = np.asarray(features.features[features.rows(dataset.evaluate)])[:, None]
        y_train = np.array([SCENES.index(c.scene) for c in dataset.train])
        y_eval = np.array([SCENES.index(c.scene) for c in dataset.evaluate])
        devices_eval = [c.device for c in dataset.evaluate]
        print(f"data ready in {time.monotonic() - started:.1f} s: {len(x_train)} train, {len(x_eval)} "
              f"evaluate clips, input {x_train.shape[2]}x{x_train.shape[3]}", file=sys.stderr)
        reports = []
        for seed in args.seeds:
            t0 = time.monotonic()
            reports.append(train_and_evaluate(x_train, y_train, x_eval, y_eval, devices_eval, args.epochs, seed))
            print(f"seed {seed}: trained and evaluated in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    columns = ["all", "seen", "unseen"] + [d for d in DEVICES if d in reports[0]["per_device"]]

    def cell(report: dict, column: str) -> float:
        if column == "all":
            return report["accuracy"]
        if column in ("seen", "unseen"):
            return report[column]["accuracy"]
        return report["per_device"][column]["accuracy"]

    table = {c: [100 * cell(r, c) for r in reports] for c in columns}
    print("macro accuracy %, plain CNN + BatchNorm, evaluate fold (mean +- std over seeds "
          f"{' '.join(map(str, args.seeds))}); unseen = {', '.join(UNSEEN_DEVICES)}")
    print("  ".join(f"{c:>11}" for c in columns))
    print("  ".join(f"{np.mean(v):6.1f}+-{np.std(v):3.1f}" for v in table.values()))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "accuracy": table,
                                               "log_loss": [r["log_loss"] for r in reports]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
