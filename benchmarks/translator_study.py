"""Which device translator should the student train with? For each seed, fit the parametric translator
(train/translator/parametric.py) and the conv translator (train/translator/conv.py) on the same parallel pairs,
score both on the same held-out pairs, then train the student with each (and with none) and print macro accuracy
all / seen / unseen devices side by side.

    python benchmarks/translator_study.py --data DATA [--seeds 0 1 2] [--student-epochs 30] [--out DIR]

The translators and the students use the same seed; the student settings are the main job's (small profile,
batch 16, translate probability 0.3). Checkpoints and translator files are reused when they exist.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seeded_runs import TABLE_HEAD, mean_sd, table_row, train_scored

from asc_edge.audio.profiles import get_profile
from asc_edge.train.checkpoint import load_file, save_atomic
from asc_edge.train.data import load_training_data
from asc_edge.train.translator import KINDS, fit_of_kind


def _fit(kind: str, path: Path, data, seed: int) -> dict:
    """Fit (or reuse) one translator; returns its held-out MSE averaged over devices and its fit time."""
    if not path.is_file():
        start = time.process_time()
        translator = fit_of_kind(kind)(data, steps=300, seed=seed)
        saved = translator.to_dict()
        saved["study_fit_cpu_s"] = time.process_time() - start
        save_atomic(saved, path)
    saved = load_file(path, kind="translator")
    report = saved["fit_report"]
    return {"mse": sum(r["mse_translated"] for r in report.values()) / len(report),
            "mse_untranslated": sum(r["mse_untranslated"] for r in report.values()) / len(report),
            "fit_cpu_s": saved["study_fit_cpu_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--student-epochs", type=int, default=30)
    parser.add_argument("--out", default="/tmp/translator-study")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_training_data(args.data, get_profile("small"), progress=False)
    fits: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    students: dict[str, list[dict]] = {"none": [], **{kind: [] for kind in KINDS}}
    for seed in args.seeds:
        for kind in KINDS:
            path = out / f"translator_{kind}_seed{seed}.pt"
            fits[kind].append(_fit(kind, path, data, seed))
            print(json.dumps({"translator": kind, "seed": seed, **fits[kind][-1]}), file=sys.stderr, flush=True)
        for kind in students:
            translator = None if kind == "none" else str(out / f"translator_{kind}_seed{seed}.pt")
            run = train_scored(out / f"student_{kind}_seed{seed}.pt", args.data, translator, "student",
                               args.student_epochs, seed)
            students[kind].append(run)
            print(json.dumps({"student_with": kind, "seed": seed, **run}), file=sys.stderr, flush=True)
    print(f"$ python benchmarks/translator_study.py {' '.join(sys.argv[1:])}")
    print("| translator | fits | held-out log-mel MSE (untranslated) | held-out MSE translated | fit CPU s |")
    print("|---|---|---|---|---|")
    for kind, runs in fits.items():
        print(f"| {kind} | {len(runs)} | {mean_sd([r['mse_untranslated'] for r in runs], 4)} | "
              f"{mean_sd([r['mse'] for r in runs], 4)} | {mean_sd([r['fit_cpu_s'] for r in runs], 0)} |")
    print()
    print(TABLE_HEAD)
    for kind, runs in students.items():
        print(table_row(f"student, translator: {kind}", runs))


if __name__ == "__main__":
    main()
