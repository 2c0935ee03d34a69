"""``asc-eval``: how well an exported model classifies a labelled data folder, scored as asc-listen decides.

    asc-eval model_int8.tflite my_sounds/                                   a folder per label: every recording
    asc-eval model_int8.tflite my_sounds/ --split runs/my_report/split.csv  its evaluate subset (asc-train's split)
    asc-eval model_int8.tflite data/mine                                    a TAU folder: its fold1 evaluate split
    asc-eval model_int8.tflite data/ --map hoover=vacuum --json --out eval.json --plot eval.png
"""

from __future__ import annotations

import argparse
import json
import sys

from asc_edge.plumbing.cli_util import add_quiet, make_entry_point

PROG = "asc-eval"


def build_parser() -> argparse.ArgumentParser:
    from asc_edge.data.folders import BACKGROUND_FOLDER
    from asc_edge.runtime.backend import add_interpreter_arguments
    from asc_edge.runtime.eval_data import SUBSETS

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Classify every labelled recording of DATA with an asc-export .tflite file, exactly as "
                    "asc-listen classifies a file (its windows; the file's result is their mean), and print "
                    "accuracy (share of recordings right, and DCASE's macro accuracy), log loss, each class's "
                    "accuracy (recall) and precision, accuracy per device (seen vs unseen where the data says) "
                    "and the confusion matrix. A recording that cannot be read is named and left out of the "
                    "scores. Exit code 2 on bad input (a missing model or folder, a label the model lacks).",
        epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("model", help="the .tflite file asc-export wrote")
    parser.add_argument("data", help="a folder per label (DATA/<label>/**/*.wav|flac|ogg) or a TAU-layout folder")
    parser.add_argument("--split", default=None, metavar="FILE.csv",
                        help="a folder per label: file,subset rows (e.g. the split a training run wrote); a TAU "
                             "folder: a table like evaluation_setup/fold1_evaluate.csv")
    parser.add_argument("--subset", default=None, choices=SUBSETS,
                        help="which recordings: TAU default evaluate (fold1); a folder per label: every "
                             "recording, or with --split its evaluate subset")
    parser.add_argument("--map", action="append", default=[], metavar="OLD=NEW",
                        help="score the data's label OLD as the model's label NEW (repeatable)")
    parser.add_argument("--background-label", default=BACKGROUND_FOLDER, metavar="NAME",
                        help=f"the folder scored as the label 'background' (default {BACKGROUND_FOLDER})")
    parser.add_argument("--device-folders", action="store_true",
                        help="the folder below each label names the device (else DATA/devices.csv, if any)")
    parser.add_argument("--json", action="store_true", help="the report as JSON instead of text")
    parser.add_argument("--out", default=None, help="write the report to this file (atomically) instead of stdout")
    parser.add_argument("--plot", default=None, metavar="FILE.png|svg",
                        help="draw the confusion matrix and per-class bars (needs matplotlib: the plot extra)")
    add_interpreter_arguments(parser)
    add_quiet(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from asc_edge.data.progress import Progress
    from asc_edge.plumbing.atomic_io import check_output_path, write_text_atomic
    from asc_edge.runtime.eval_data import load_eval_data, map_labels, parse_label_map
    from asc_edge.runtime.eval_plot import check_plot_path, require_matplotlib, write_plot
    from asc_edge.runtime.eval_report import format_report
    from asc_edge.runtime.evaluate import classify_items, score
    from asc_edge.runtime.model import SceneModel

    args = build_parser().parse_args(argv)
    # Everything that can be refused cheaply is refused before the model loads and any audio is read.
    mapping = parse_label_map(args.map)
    for path in (args.out, args.plot):
        if path:
            check_output_path(path)
    if args.plot:
        check_plot_path(args.plot)
        require_matplotlib()
    data = load_eval_data(args.data, args.split, args.subset, args.background_label, args.device_folders)
    model = SceneModel(args.model, backend=args.backend, threads=args.threads)
    data = map_labels(data, mapping, model.labels)
    with Progress(len(data.items), f"{PROG}: recordings", enabled=not args.quiet) as bar:
        scored = classify_items(model, data.items, on_item=bar.advance)
    report = score(scored, model.labels, data, model.path.name)
    text = json.dumps(report, indent=2) + "\n" if args.json else format_report(report)
    if args.plot:
        write_plot(args.plot, report)
    if args.out:
        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    if args.plot:
        print(f"{PROG}: drew {args.plot}", file=sys.stderr)
    for item in report["unreadable"]:  # named on stderr too: they must not pass unnoticed in a --json pipe
        print(f"{PROG}: not scored: {item['error']}", file=sys.stderr)
    return 0  # some files unreadable is still a report (they are named); none readable was refused in score()


entry_point = make_entry_point(main, PROG)

if __name__ == "__main__":
    entry_point()
