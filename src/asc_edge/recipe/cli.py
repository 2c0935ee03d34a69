"""``asc-train recipe --data DIR --out RUN_DIR [--config quick|paper|FILE.toml]``: the command line."""

from __future__ import annotations

import argparse

from asc_edge.data.layout import add_folder_layout_flags
from asc_edge.export.gate_flags import add_gate_flags
from asc_edge.plumbing.cli_util import add_cache_dir, add_quiet, add_workers

PROG = "asc-train recipe"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the whole QTI system as one resumable command: device translator -> teacher(s) -> "
                    "student with device translation and KD -> pruning + fine-tuning -> int8 (QAT or "
                    "post-training) -> asc-export with its default gates -> RUN_DIR/report.md. Each stage "
                    "lives in RUN_DIR/<stage>/; rerunning the same command skips finished stages, resumes an "
                    "interrupted one and redoes those whose settings changed.")
    parser.add_argument("--data", required=True,
                        help="data folder: TAU layout (real or asc-synth, has meta.csv) or a folder per label "
                             "(DATA/<label>/...; the split is kept in RUN_DIR/split.csv for every stage and rerun)")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder (created; reused on rerun)")
    parser.add_argument("--config", default="quick",
                        help="quick (CPU, the main job), paper (the QTI settings for TAU on a GPU) or a TOML file "
                             "that overrides fields of its base = \"quick\"|\"paper\" (default: quick)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: a GPU when present (default)")
    parser.add_argument("--balanced", action="store_true",
                        help="every training stage draws its clips with every label equally likely")
    add_folder_layout_flags(parser)
    add_cache_dir(parser)
    add_workers(parser)
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    add_quiet(parser)
    gates = parser.add_argument_group(
        "export gates", "the export stage uses asc-export's default gates; relax one only knowingly, after "
                        "reading a refused export's report: report.md then says which were relaxed by the user")
    add_gate_flags(gates, defaults=False)
    return parser


def main(argv: list[str]) -> int:
    import json

    from asc_edge.data.layout import folder_options
    from asc_edge.export.gate_flags import chosen_gates
    from asc_edge.recipe.config import load_config
    from asc_edge.recipe.run import Machine, run_recipe

    args = build_parser().parse_args(argv)
    config = load_config(args.config)
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    machine = Machine(device=args.device, cache_dir=args.cache_dir, workers=args.workers, progress=not args.quiet)
    report = run_recipe(config, args.data, args.out, machine, layout=folder_options(args), balanced=args.balanced,
                        gates=chosen_gates(args))
    if report:
        print(f"asc-train recipe: done; report {args.out}/report.md")
    return 0
