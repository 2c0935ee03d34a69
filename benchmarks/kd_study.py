"""Does knowledge distillation earn its place? Train teachers until they are (or are not) clearly better than the
student, then the student with and without distillation from them, over several seeds, with asc-train's own
training code; print macro accuracy (all / seen / unseen devices) and log loss side by side.

    python benchmarks/kd_study.py --data DATA --translator T.pt [--teachers 2] [--teacher-epochs 60]
        [--student-epochs 30] [--seeds 0 1 2] [--out /tmp/kd-study] [--jobs 1]

Teachers: the ``teacher`` preset (315 k parameters), seeds 100, 101, ...; used alone (the first) and as an
ensemble (all of them, logits averaged by asc-train). Students: the ``student`` preset, the main job's settings
(small profile, batch 16, device translation). Checkpoints are reused when they exist.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from seeded_runs import KD_DEFAULTS, TABLE_HEAD, table_row, train_scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--translator", required=True)
    parser.add_argument("--teachers", type=int, default=2)
    parser.add_argument("--teacher-epochs", type=int, default=60)
    parser.add_argument("--student-epochs", type=int, default=30)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="/tmp/kd-study")
    parser.add_argument("--kd-temperature", type=float, default=KD_DEFAULTS[0], help="default: asc-train's")
    parser.add_argument("--kd-alpha", type=float, default=KD_DEFAULTS[1], help="default: asc-train's")
    parser.add_argument("--jobs", type=int, default=1,
                        help="trainings at once, each in its own process (set OMP_NUM_THREADS=1 with 2 on 2 cores)")
    args = parser.parse_args()
    if args.teachers < 1 or args.jobs < 1:
        parser.error("--teachers and --jobs must be at least 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    teacher_paths = [out / f"teacher_seed{100 + i}.pt" for i in range(args.teachers)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        teachers = list(pool.map(train_scored, teacher_paths, *zip(*[
            (args.data, args.translator, "teacher", args.teacher_epochs, 100 + i) for i in range(args.teachers)])))
        print(json.dumps({"teachers": teachers}), file=sys.stderr, flush=True)
        plans = {"student": (), "student + KD (1 teacher)": (str(teacher_paths[0]),)}
        if args.teachers > 1:
            plans[f"student + KD (ensemble of {args.teachers})"] = tuple(str(p) for p in teacher_paths)
        # Students with KD settings other than asc-train's defaults, or another length, get their own files.
        kd = "" if (args.kd_temperature, args.kd_alpha) == KD_DEFAULTS else f"_T{args.kd_temperature}_a{args.kd_alpha}"
        length = "" if args.student_epochs == 30 else f"_e{args.student_epochs}"
        jobs = {(name, seed): pool.submit(train_scored,
                                          out / f"student_plan{index}{kd if used else ''}{length}_seed{seed}.pt",
                                          args.data, args.translator, "student", args.student_epochs, seed, used,
                                          args.kd_temperature, args.kd_alpha)
                for index, (name, used) in enumerate(plans.items()) for seed in args.seeds}
        results: dict[str, list[dict]] = {}
        for (name, seed), job in jobs.items():
            results.setdefault(name, []).append(job.result())
            print(json.dumps({"plan": name, "seed": seed, **results[name][-1]}), file=sys.stderr, flush=True)
    print(f"$ python benchmarks/kd_study.py {' '.join(sys.argv[1:])}")
    print(TABLE_HEAD)
    for i, t in enumerate(teachers):
        print(table_row(f"teacher (seed {100 + i}, {args.teacher_epochs} epochs)", [t]))
    for name, runs in results.items():
        kd_settings = "" if name == "student" else f", T {args.kd_temperature}, alpha {args.kd_alpha}"
        print(table_row(f"{name}{kd_settings}, {args.student_epochs} epochs", runs))


if __name__ == "__main__":
    main()
