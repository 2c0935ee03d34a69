"""``asc-train``: train BC-ResNet-Mod on a TAU-layout folder; ``asc-train translator`` fits the device translator.

Stages a full QTI-style run chains (each is one command):
    asc-train translator --data D --out translator.pt
    asc-train --data D --out teacher.pt --preset teacher --translator translator.pt
    asc-train --data D --out student.pt --preset student --teacher teacher.pt --translator translator.pt
    asc-train --data D --out pruned.pt --init student.pt --prune-structured 0.25 --epochs 10
    asc-train --data D --out qat.pt --init pruned.pt --qat --epochs 5 --lr 3e-4
"""

from __future__ import annotations

import argparse
import sys

from asc_edge.audio.profiles import DEFAULT_PROFILE, PROFILES
from asc_edge.data.layout import add_folder_layout_flags
from asc_edge.plumbing.cli_util import (
    add_cache_dir,
    add_quiet,
    add_workers,
    fraction,
    make_entry_point,
    non_negative,
    non_negative_int,
    positive,
    positive_int,
)
from asc_edge.train.presets import PRESETS
from asc_edge.train.translator import KINDS as TRANSLATOR_KINDS

PROG = "asc-train"


def build_parser() -> argparse.ArgumentParser:
    presets = "; ".join(f"{p.name}: {p.description}" for p in PRESETS.values())
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train the QTI DCASE2021 Task 1A system (ResNorm + BC-ResNet-Mod) on a TAU Urban Acoustic "
                    "Scenes 2020 Mobile layout folder (real or asc-synth) or on a folder per label (your own "
                    "recordings). Evaluates on the evaluate split every epoch (per device, seen vs unseen). OUT "
                    "holds the last completed epoch (resumable), OUT.best.pt the best on the evaluate split, "
                    "OUT_report/ the metrics and plots (and a folder per label's split.csv).\n"
                    "Run 'asc-train translator -h' for the device-translation stage, 'asc-train recipe -h' "
                    "for the whole system as one resumable command and 'asc-train cv -h' for K-fold "
                    "cross-validation.\n"
                    "The augmentation defaults (mixup 0.3, SpecAugment masks, roll 0.5, no random gain, ResNorm) "
                    "are the measured best for a folder of recordings: on ESC-10's five official folds no lever "
                    "beat the seed spread (docs/real-audio.md).",
        epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("--data", required=True,
                        help="data folder: TAU layout (has meta.csv) or a folder per label (DATA/<label>/...)")
    parser.add_argument("--out", required=True, help="checkpoint to write, e.g. model.pt")
    parser.add_argument("--preset", default="student", choices=sorted(PRESETS), help=f"model preset ({presets})")
    parser.add_argument("--frontend", default=None, choices=sorted(PROFILES),
                        help=f"frontend profile (default: the --init model's, else {DEFAULT_PROFILE})")
    parser.add_argument("--epochs", type=positive_int, default=30, help="total epochs (default: 30)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clips per step and rank (default: 32)")
    parser.add_argument("--lr", type=positive, default=None, help="peak learning rate (default: 1e-2 adamw, 0.05 sgd)")
    parser.add_argument("--weight-decay", type=non_negative, default=None)
    parser.add_argument("--optimizer", default="adamw", choices=("adamw", "sgd"))
    parser.add_argument("--warmup-epochs", type=non_negative, default=1.0, help="linear warm-up, then cosine decay")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: a GPU when present (default)")
    parser.add_argument("--resume", action="store_true", help="continue the run stored in OUT (may raise --epochs)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT and start afresh")
    parser.add_argument("--mixup", type=non_negative, default=0.3, metavar="ALPHA", help="mixup Beta alpha; 0 disables")
    parser.add_argument("--no-specaugment", action="store_true", help="no frequency/time masks")
    parser.add_argument("--roll", type=fraction, default=0.5, metavar="FRACTION",
                        help="random circular time shift of up to this fraction of a clip (default 0.5)")
    parser.add_argument("--gain-db", type=non_negative, default=0.0, metavar="DB",
                        help="random level change of up to +-DB per clip (default 0: off)")
    parser.add_argument("--resnorm", default=None, choices=("instance", "frequency", "batch", "none"),
                        help="override the preset's Residual Normalization (ablations)")
    parser.add_argument("--teacher", nargs="+", default=(), metavar="CKPT",
                        help="knowledge distillation from one or several teacher checkpoints (ensemble)")
    parser.add_argument("--kd-temperature", type=positive, default=2.0)
    parser.add_argument("--kd-alpha", type=fraction, default=0.5, help="weight of the distillation loss")
    parser.add_argument("--translator", default=None, help="device translator (from 'asc-train translator')")
    parser.add_argument("--translate-prob", type=fraction, default=0.3,
                        help="probability of translating a reference-device clip to another device")
    parser.add_argument("--init", default=None, help="start from this trained checkpoint (fine-tuning stages)")
    parser.add_argument("--prune-structured", type=fraction, default=0.0, metavar="FRACTION",
                        help="drop this fraction of channels of every stage, then fine-tune (needs --init)")
    parser.add_argument("--prune-unstructured", type=fraction, default=0.0, metavar="SPARSITY",
                        help="zero this fraction of conv weights by magnitude, then fine-tune (needs --init)")
    parser.add_argument("--qat-epochs", type=non_negative_int, default=3, metavar="N",
                        help="by default the device presets end with N epochs of quantisation-aware training "
                             "(default 3) after --epochs: the int8 file's graph simulated exactly, with int8 "
                             "ranges that asc-export writes into the file as they are; the run then evaluates "
                             "and saves that simulation. 0: ranges calibrated and the simulation evaluated, no "
                             "QAT epoch. The teacher preset is not for devices and stays float")
    parser.add_argument("--qat-lr", type=positive, default=3e-4,
                        help="peak learning rate of the QAT epochs, decayed to 0 (default: 3e-4)")
    parser.add_argument("--no-qat", action="store_true",
                        help="no int8 simulation: a plain float checkpoint (asc-export then calibrates "
                             "percentile ranges itself and compares the file with the float model)")
    parser.add_argument("--qat", action="store_true",
                        help="a QAT-only fine-tuning stage: every one of --epochs trains the int8 simulation "
                             "(needs --init)")
    parser.add_argument("--balanced", action="store_true",
                        help="draw each epoch's clips with every label equally likely (for imbalanced labels)")
    add_folder_layout_flags(parser)
    add_cache_dir(parser)
    add_workers(parser)
    parser.add_argument("--report-dir", default=None,
                        help="report folder (default: OUT's name + _report); a folder per label's split.csv too")
    add_quiet(parser)
    return parser


def build_translator_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} translator",
        description="Fit the device translator: for every training device, a frequency response, dynamics and "
                    "noise-floor model (--kind parametric, the default) or a small conv network (--kind conv, "
                    "the report's kind) that turns reference-device (a) log-mels into that device's, learned "
                    "from the parallel recordings of the training split. Prints the held-out fit.")
    parser.add_argument("--data", required=True, help="TAU-layout dataset folder")
    parser.add_argument("--out", required=True, help="translator file to write, e.g. translator.pt")
    parser.add_argument("--frontend", default=DEFAULT_PROFILE, choices=sorted(PROFILES))
    parser.add_argument("--kind", default="parametric", choices=TRANSLATOR_KINDS,
                        help="parametric: per-device response + dynamics + noise floor (default; as good on "
                             "held-out pairs and 10-30x faster to fit, docs/measurements.md); conv: 5x3 conv net")
    parser.add_argument("--steps", type=positive_int, default=300, help="optimiser steps per device")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    add_cache_dir(parser)
    add_workers(parser)
    add_quiet(parser)
    return parser


def translator_main(argv: list[str]) -> int:
    from asc_edge.audio.profiles import get_profile
    from asc_edge.plumbing.errors import ConfigError
    from asc_edge.plumbing.output_paths import require_writable
    from asc_edge.train.checkpoint import save_atomic
    from asc_edge.train.data import load_training_data
    from asc_edge.train.translator import fit_of_kind, format_fit_report

    args = build_translator_parser().parse_args(argv)
    require_writable(args.out, "translator file (--out)", is_dir=False, error=ConfigError)  # before the fit
    data = load_training_data(args.data, get_profile(args.frontend), args.cache_dir, args.workers,
                              progress=not args.quiet)
    translator = fit_of_kind(args.kind)(data, steps=args.steps, seed=args.seed)
    save_atomic(translator.to_dict(), args.out)
    print(format_fit_report(translator))
    print(f"wrote {args.out} ({len(translator.devices)} devices: {', '.join(translator.devices)})")
    return 0


def settings_from_args(args: argparse.Namespace):
    """The TrainSettings of a parsed ``asc-train`` command line (``asc-train cv`` reuses it per fold)."""
    from asc_edge.data.layout import folder_options
    from asc_edge.train.augment import AugmentConfig
    from asc_edge.train.settings import TrainSettings

    return TrainSettings(
        data=args.data, out=args.out, preset=args.preset, frontend=args.frontend, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay, optimizer=args.optimizer,
        warmup_epochs=args.warmup_epochs, seed=args.seed, device=args.device, resume=args.resume,
        overwrite=args.overwrite, cache_dir=args.cache_dir, workers=args.workers,
        augment=AugmentConfig(mixup_alpha=args.mixup, roll_fraction=args.roll, gain_db=args.gain_db),
        spec_augment=not args.no_specaugment, resnorm=args.resnorm, teachers=tuple(args.teacher),
        kd_temperature=args.kd_temperature, kd_alpha=args.kd_alpha, translator=args.translator,
        translate_prob=args.translate_prob, init=args.init, prune_structured=args.prune_structured,
        prune_unstructured=args.prune_unstructured, qat=args.qat, qat_epochs=0 if args.no_qat else args.qat_epochs,
        qat_lr=args.qat_lr, simulate_int8=not args.no_qat, report_dir=args.report_dir,
        progress=not args.quiet, layout=folder_options(args).to_dict(), balanced=args.balanced)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["translator"]:
        return translator_main(argv[1:])
    if argv[:1] == ["recipe"]:  # the recipe sits above train (asc_edge.recipe); only the asc-train command has it
        from asc_edge.plumbing.errors import ConfigError
        raise ConfigError("'recipe' belongs to the asc-train command: run 'asc-train recipe ...' or "
                          "'python -m asc_edge.recipe.asc_train recipe ...' (torchrun: -m asc_edge.recipe.asc_train)")
    from asc_edge.train.report import final_lines
    from asc_edge.train.trainer import train

    settings = settings_from_args(build_parser().parse_args(argv))
    result = train(settings)
    if result:
        m = result["metrics"]
        print(f"done: eval macro accuracy {100 * m['accuracy']:.1f}%, log loss {m['log_loss']:.3f}; "
              f"wrote {result['out']}, {result['best']} and {result['report']}")
        print("\n".join(final_lines(m, result["plots"])))
    return 0


entry_point = make_entry_point(main, PROG)


if __name__ == "__main__":
    entry_point()
