"""What real audio needs: each lever cross-validated on ESC-10's official folds with ``asc-train cv``, compared fold by
fold with the baseline (asc-train's defaults, same seed, same folds).

    python benchmarks/esc10_levers.py --data ESC10_DIR --runs DIR [--levers no_mixup gain6 ...] [--no-export]
    python benchmarks/esc10_levers.py --runs DIR --summary-only

Each lever is one ``asc-train cv`` run in ``DIR/<lever>`` (a rerun skips finished folds); ``baseline`` and
``baseline_s1`` (seed 1) measure the seed-to-seed spread; a lever named ``*_s1`` is paired with ``baseline_s1``.
Printed per lever: the int8 simulation's (and where exported the int8 file's) macro accuracy mean +- sd over folds,
the mean paired difference to the baseline with the sd of the differences, and the verdict: a lever is kept only if
its mean gain exceeds the seed spread of the baseline: twice the standard error of the two seeds'
paired fold differences (2 sd / sqrt(K)), the smallest change that the seed alone would not make about 95 % of the
time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

LEVERS: dict[str, list[str]] = {
    "baseline": [], "baseline_s1": ["--seed", "1"],
    "no_mixup": ["--mixup", "0"], "no_specaugment": ["--no-specaugment"], "no_roll": ["--roll", "0"],
    "gain6": ["--gain-db", "6"], "resnorm_none": ["--resnorm", "none"],
    "resnorm_none_s1": ["--resnorm", "none", "--seed", "1"], "epochs60": ["--epochs", "60"],
    "tiny": ["--preset", "tiny"], "max": ["--preset", "max"],
}


def run_lever(data: str, runs: Path, name: str, export: bool) -> None:
    command = [sys.executable, "-m", "asc_edge.recipe.asc_train", "cv", "--data", data, "--folds",
               str(Path(data) / "folds.csv"), "--frontend", "small", "--out", str(runs / name), "--quiet",
               "--cache-dir", str(runs / "feature-cache"), *LEVERS[name], *([] if export else ["--no-export"])]
    print(f"== {name}: {' '.join(command[3:])}", flush=True)
    subprocess.run(command, check=True)


def per_fold(run: Path, model: str) -> np.ndarray | None:
    try:
        cv = json.loads((run / "cv.json").read_text())
    except OSError:
        return None
    values = [r[model]["macro_accuracy"] for r in sorted(cv["per_fold"], key=lambda r: r["fold"]) if r.get(model)]
    return np.asarray(values) if len(values) == cv["folds"] else None


def summary(runs: Path, model: str) -> list[str]:
    base = per_fold(runs / "baseline", model)
    seed = per_fold(runs / "baseline_s1", model)
    spread = None
    if base is not None and seed is not None:
        spread = 2 * (seed - base).std(ddof=1) / np.sqrt(base.size)
    lines = [f"{model}: macro accuracy over the folds (pp); a lever must gain more than the seed spread "
             + ("-" if spread is None else f"(2 x the standard error of the seeds' paired differences) "
                                           f"{100 * spread:.1f} pp"),
             f"{'lever':16s} {'mean +- sd':>14s} {'paired diff +- sd':>19s}  verdict"]
    for name in LEVERS:
        values = per_fold(runs / name, model)
        if values is None:
            continue
        cell = f"{100 * values.mean():.1f} +- {100 * values.std(ddof=1):.1f}"
        if base is None or name == "baseline":
            lines.append(f"{name:16s} {cell:>14s}")
            continue
        # a seed-1 lever is paired with the seed-1 baseline
        reference = seed if name.endswith("_s1") and name != "baseline_s1" and seed is not None else base
        diff = values - reference
        gain, sd = diff.mean(), diff.std(ddof=1)
        kept = spread is not None and gain > spread
        verdict = "seed spread" if name == "baseline_s1" else ("kept" if kept else "not kept")
        lines.append(f"{name:16s} {cell:>14s} {100 * gain:+8.1f} +- {100 * sd:4.1f}  {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--runs", required=True, type=Path)
    parser.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    parser.add_argument("--no-export", action="store_true", help="float and int8 simulation only (faster)")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    if not args.summary_only:
        if not args.data:
            parser.error("--data is needed to run levers")
        for name in args.levers:
            run_lever(args.data, args.runs, name, not args.no_export)
    for model in ("int8_simulation", "int8_file"):
        print("\n".join(summary(args.runs, model)))


if __name__ == "__main__":
    main()
