"""``asc-train cv``: the command line of K-fold cross-validation (the core is recipe/cv.py). It takes
``asc-train``'s own training flags; ``--out`` is the run folder."""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

from asc_edge.plumbing.errors import ConfigError

PROG = "asc-train cv"


def build_parser() -> argparse.ArgumentParser:
    from asc_edge.train.cli import build_parser as train_parser

    parser = train_parser()
    parser.prog = PROG
    parser.description = (
        "K-fold cross-validation of the configured model on a folder per label: for each fold, its split file, "
        "the model trained with these asc-train flags (last epoch: nothing is chosen on the evaluate fold), "
        "exported through asc-export's default gates, and the int8 file scored on the fold's recordings as "
        "asc-listen decides them. Prints per fold and as mean +- sd: the float model before QAT, its int8 "
        "simulation and the int8 file (macro and micro accuracy, log loss, file bytes), and the file's confusion "
        "matrix summed over folds. A rerun skips finished folds and resumes an interrupted one.")
    parser.epilog = None
    for action in parser._actions:
        if action.dest == "out":
            action.help = "run folder: fold<i>/ (split.csv, model.pt, export/, result.json), folds.csv, cv.json, cv.md"
            action.metavar = "RUN_DIR"
        if action.dest == "split":
            action.help = "not used by cv (the folds make the splits)"
    parser.add_argument("--folds", required=True, metavar="FILE.csv|K",
                        help="a file,fold table (optional 'group' column), e.g. a data set's official folds; or a "
                             "number K of folds, stratified by label and grouped by source (--group-by)")
    parser.add_argument("--no-export", action="store_true",
                        help="train and evaluate only (float and int8 simulation, no int8 file): quick lever "
                             "comparisons")
    parser.add_argument("--fold-seed", type=int, default=0, help="seed of the folds made for --folds K (0)")
    return parser


def main(argv: list[str]) -> int:
    from asc_edge.audio.profiles import DEFAULT_PROFILE, get_profile
    from asc_edge.data.folder_dataset import FolderOptions
    from asc_edge.data.layout import detect_layout
    from asc_edge.recipe.cv import CrossValidation, plan_folds
    from asc_edge.train.cli import settings_from_args

    args = build_parser().parse_args(argv)
    if args.split:
        raise ConfigError("asc-train cv makes each fold's split itself: give --folds, not --split")
    if args.resume or args.init or args.qat:
        raise ConfigError("asc-train cv trains each fold from scratch (a rerun resumes by itself): drop "
                          "--resume/--init/--qat")
    data = Path(args.data)
    if detect_layout(data) != "folders":
        raise ConfigError(f"{data}: asc-train cv takes a folder per label; a TAU folder has its own official split "
                          "(asc-train --data)")
    run_dir = Path(args.out)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: exists and is not a folder (--out is the run folder)")
    base = settings_from_args(args)
    # The feature cache: one for every fold, in the run folder unless given (never inside the data).
    base = replace(base, cache_dir=args.cache_dir or str(run_dir / "feature-cache"), resume=False, overwrite=False)
    base.check()
    options = FolderOptions.from_dict(base.layout)
    profile = get_profile(args.frontend or DEFAULT_PROFILE)
    folds, groups, labels, source = plan_folds(data, profile.sample_rate, options, args.folds, args.fold_seed)
    if args.overwrite:
        for old in run_dir.glob("fold*"):
            if old.is_dir():
                shutil.rmtree(old)
    CrossValidation(base, run_dir, folds, groups, labels, source, export=not args.no_export).run()
    return 0
