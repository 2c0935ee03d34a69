"""Does a folder per scene train like the TAU layout? An asc-synth set (TAU layout) is re-laid as
``F/<scene>/<file>`` with its fold1 split as ``--split`` and its devices as ``devices.csv``, and the student is
trained on both with the same settings (no translator, which needs the TAU layout's parallel recordings), per
seed; the table gives the evaluate split's macro accuracy (asc-train's own evaluation) side by side.

    python benchmarks/folder_layout_study.py --data TAU_DIR --out OUT [--seeds 0 1 2] [--epochs 30]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
from pathlib import Path

from asc_edge.plumbing.cli_util import run_cli
from asc_edge.train.checkpoint import load_checkpoint
from asc_edge.train.cli import main as train_main


def relay(tau: Path, folder: Path) -> Path:
    """The TAU set as a folder per scene, plus the split file and devices.csv; returns the split file."""
    split = folder.parent / "split.csv"
    if (folder / "devices.csv").is_file():
        return split
    folder.mkdir(parents=True, exist_ok=True)
    subset = {}
    for name in ("train", "evaluate"):
        with open(tau / "evaluation_setup" / f"fold1_{name}.csv", newline="") as rows:
            subset.update({row["filename"]: name for row in csv.DictReader(rows, delimiter="\t")})
    with open(tau / "meta.csv", newline="") as meta, open(split, "w", newline="") as split_file, \
            open(folder.parent / "devices.tmp", "w", newline="") as devices:
        split_rows, device_rows = csv.writer(split_file), csv.writer(devices)
        split_rows.writerow(["file", "subset"])
        device_rows.writerow(["file", "device"])
        for row in csv.DictReader(meta, delimiter="\t"):
            if row["filename"] not in subset:
                continue
            relative = f"{row['scene_label']}/{Path(row['filename']).name}"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tau / row["filename"], folder / relative)
            split_rows.writerow([relative, subset[row["filename"]]])
            device_rows.writerow([relative, row["source_label"]])
    shutil.move(folder.parent / "devices.tmp", folder / "devices.csv")
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    out = Path(args.out)
    split = relay(Path(args.data), out / "folders")
    results: dict[str, list[float]] = {"TAU layout": [], "folder per scene": []}
    for seed in args.seeds:
        for name, extra in (("TAU layout", ["--data", args.data]),
                            ("folder per scene", ["--data", str(out / "folders"), "--split", str(split)])):
            path = out / f"{name.split()[0].lower()}_seed{seed}.pt"
            if not path.is_file():
                code = run_cli(train_main, [*extra, "--out", str(path), "--frontend", "small", "--epochs",
                                            str(args.epochs), "--batch-size", "16", "--seed", str(seed),
                                            "--overwrite", "--quiet"], prog="asc-train")
                if code != 0:
                    raise SystemExit(f"asc-train failed for {name}, seed {seed}")
            results[name].append(100 * load_checkpoint(path)["metrics"]["accuracy"])
            print(f"{name}, seed {seed}: {results[name][-1]:.1f} %", flush=True)
    print(f"$ python benchmarks/folder_layout_study.py --data {args.data} --out OUT --seeds "
          f"{' '.join(map(str, args.seeds))} --epochs {args.epochs}")
    print("| layout | seeds | macro accuracy % (each) | mean ± sd |\n|---|---|---|---|")
    for name, values in results.items():
        spread = f" ± {statistics.stdev(values):.1f}" if len(values) > 1 else ""
        print(f"| {name} | {len(values)} | {', '.join(f'{v:.1f}' for v in values)} | "
              f"{statistics.mean(values):.1f}{spread} |")


if __name__ == "__main__":
    main()
