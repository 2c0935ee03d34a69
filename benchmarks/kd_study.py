"""Does knowledge distillation earn its place? Train teachers until they are (or are not) clearly better than the
student, then the student with and without distillation from them, over several seeds, with asc-train's own
training code; print macro accuracy (all / seen / unseen devices) and log loss side by side.

    python benchmarks/kd_study.py --data DATA --translator T.pt [--teachers 2] [--teacher-epochs 60]
        [--student-epochs 30] [--seeds 0 1 2] [--out /tmp/kd-study]

Teachers: the ``teacher`` preset (315 k parameters), seeds 100, 101, ...; used alone (the first) and as an
ensemble (all of them, logits averaged by asc-train). Students: the ``student`` preset, the main job's settings
(small profile, batch 16, device translation). Checkpoints are reused when they exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seeded_runs import TABLE_HEAD, table_row, train_scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--translator", required=True)
    parser.add_argument("--teachers", type=int, default=2)
    parser.add_argument("--teacher-epochs", type=int, default=60)
    parser.add_argument("--student-epochs", type=int, default=30)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="/tmp/kd-study")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    teacher_paths = [out / f"teacher_seed{100 + i}.pt" for i in range(args.teachers)]
    teachers = [train_scored(p, args.data, args.translator, "teacher", args.teacher_epochs, 100 + i)
                for i, p in enumerate(teacher_paths)]
    print(json.dumps({"teachers": teachers}), file=sys.stderr, flush=True)
    plans = {"student": (), "student + KD (1 teacher)": (str(teacher_paths[0]),)}
    if args.teachers > 1:
        plans[f"student + KD (ensemble of {args.teachers})"] = tuple(str(p) for p in teacher_paths)
    results: dict[str, list[dict]] = {}
    for index, (name, used) in enumerate(plans.items()):
        for seed in args.seeds:
            run = train_scored(out / f"student_plan{index}_seed{seed}.pt", args.data, args.translator, "student",
                         args.student_epochs, seed, used)
            results.setdefault(name, []).append(run)
            print(json.dumps({"plan": name, "seed": seed, **run}), file=sys.stderr, flush=True)
    print(f"$ python benchmarks/kd_study.py {' '.join(sys.argv[1:])}")
    print(TABLE_HEAD)
    for i, t in enumerate(teachers):
        print(table_row(f"teacher (seed {100 + i}, {args.teacher_epochs} epochs)", [t]))
    for name, runs in results.items():
        print(table_row(name, runs))


if __name__ == "__main__":
    main()
