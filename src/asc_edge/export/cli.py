"""``asc-export``: a checkpoint -> ONNX -> full-int8 TFLite with size and fidelity gates; ``--info`` reads one.

    asc-export model.pt                       writes model_export/{model.onnx, model_int8.tflite, export_report.json}
    asc-export model.pt -o out --c-array      also out/model_int8.h and .cc for TFLite Micro
    asc-export --info out/model_int8.tflite   prints the embedded model card, ops and size
"""

from __future__ import annotations

import argparse
import json
import sys

from asc_edge.cli_util import fraction, make_entry_point, non_negative, positive_int

PROG = "asc-export"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export an asc-train checkpoint through ONNX to a full-integer int8 TFLite file, checked "
                    "against a byte budget and against the PyTorch model on held-out clips; labels, frontend "
                    "and window are embedded in the file. Exit code 2 when a gate fails (no .tflite is "
                    "written; export_report.json says why).",
        epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("checkpoint", nargs="?", help="asc-train checkpoint (.pt)")
    parser.add_argument("-o", "--out-dir", default=None, help="output folder (default: <checkpoint>_export)")
    parser.add_argument("--calib", metavar="DATA_DIR", default=None,
                        help="TAU-layout folder: training split calibrates, evaluate split measures fidelity "
                             "(default: the folder recorded in the checkpoint)")
    parser.add_argument("--max-bytes", type=positive_int, default=128_000, help="size budget (default: 128000)")
    parser.add_argument("--min-agreement", type=fraction, default=0.99,
                        help="fidelity gate: least top-1 agreement with PyTorch (default: 0.99)")
    parser.add_argument("--max-drop", type=non_negative, default=0.5, metavar="PP",
                        help="fidelity gate: most macro-accuracy drop in percentage points (default: 0.5)")
    parser.add_argument("--calibration-clips", type=positive_int, default=300,
                        help="training clips for int8 calibration (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="order of the calibration draw (default: 0)")
    parser.add_argument("--c-array", action="store_true", help="also write model_int8.h/.cc for TFLite Micro")
    parser.add_argument("--info", metavar="FILE", help="print an exported .tflite's model card, ops and size")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of the summary")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _info(path: str, as_json: bool) -> int:
    from asc_edge.export.flatbuffer import activation_memory, io_details, op_histogram
    from asc_edge.export.report import info_lines
    from asc_edge.tflite_file import read_model_file

    data, card = read_model_file(path)
    ops, io, memory = op_histogram(data), io_details(data), activation_memory(data)
    if as_json:
        print(json.dumps({"file": path, "bytes": len(data), "model_card": card, "ops": ops, "io": io,
                          "memory": memory}, indent=2, sort_keys=True))
    else:
        print("\n".join(info_lines(path, len(data), card, ops, io, memory)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.info:
        if args.checkpoint:
            parser.error("give either a checkpoint to export or --info FILE, not both")
        return _info(args.info, args.json)
    if not args.checkpoint:
        parser.error("a checkpoint to export is required (or --info FILE)")
    from asc_edge.errors import ExportError
    from asc_edge.export.pipeline import ExportSettings, export_checkpoint
    from asc_edge.export.report import summary_lines

    settings = ExportSettings(checkpoint=args.checkpoint, out_dir=args.out_dir, calib=args.calib,
                              max_bytes=args.max_bytes, min_agreement=args.min_agreement,
                              max_drop_pp=args.max_drop, calibration_clips=args.calibration_clips,
                              seed=args.seed, c_array=args.c_array, progress=not args.quiet)

    def log(line: str) -> None:
        if not args.quiet:
            print(f"{PROG}: {line}", file=sys.stderr, flush=True)

    try:
        result = export_checkpoint(settings, log=log)
    except ExportError as exc:
        report = getattr(exc, "report", None)
        if report is not None and not args.json:
            print("\n".join(summary_lines(report)))
        raise
    if args.json:
        print(json.dumps(result.report, indent=2, sort_keys=True))
    else:
        print("\n".join(summary_lines(result.report)))
        print(f"  wrote           {', '.join(str(result.out_dir / name) for name in result.written)}")
    return 0


entry_point = make_entry_point(main, PROG)
