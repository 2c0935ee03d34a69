"""Training throughput: clips per second (forward + backward + AdamW step) per preset and frontend profile.

    python benchmarks/train_throughput.py [--presets student teacher] [--profiles small dcase] [--steps 10]

Inputs are random log-mels of the profile's 10 s shape (throughput does not depend on the values); the same
augmentation-free step as asc-train. Prints one row per (preset, profile) with the command line.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch.nn import functional

from asc_edge.audio.profiles import get_profile
from asc_edge.train.models import BCResNetMod
from asc_edge.train.presets import PRESETS, preset_config
from asc_edge.train.size import model_size


def clips_per_second(preset: str, profile: str, batch_size: int, steps: int) -> tuple[float, object]:
    config = get_profile(profile)
    shape = (config.n_mels, config.n_frames(10 * config.sample_rate))
    model = BCResNetMod(preset_config(preset, shape[0], 10)).train()
    size = model_size(model, (1, 1, *shape))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch_size, 1, *shape)
    y = torch.randint(0, 10, (batch_size,))

    def step() -> None:
        optimizer.zero_grad()
        functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    step()  # warm-up: kernel selection and allocation
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start), (shape, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["student", "teacher"], choices=sorted(PRESETS))
    parser.add_argument("--profiles", nargs="+", default=["small", "dcase"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"$ python benchmarks/train_throughput.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}")
    print(f"{'preset':<8} {'profile':<7} {'input':<10} {'params':>8} {'MMACs':>7} {'clips/s':>8}")
    for preset in args.presets:
        for profile in args.profiles:
            rate, (shape, size) = clips_per_second(preset, profile, args.batch_size, args.steps)
            print(f"{preset:<8} {profile:<7} {f'{shape[0]}x{shape[1]}':<10} {size.parameters:>8} "
                  f"{size.macs / 1e6:>7.1f} {rate:>8.1f}")


if __name__ == "__main__":
    main()
