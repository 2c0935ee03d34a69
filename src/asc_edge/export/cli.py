"""``asc-export``: a checkpoint -> ONNX -> full-int8 TFLite with size and fidelity gates; ``--info`` reads one.

    asc-export model.pt                       writes model_export/{model.onnx, model_int8.tflite, export_report.json}
    asc-export model.pt -o out --c-array      also out/model_int8.h and .cc for TFLite Micro
    asc-export --info out/model_int8.tflite   prints the embedded model card, ops and size
    asc-export --c-array-of out/model_int8.tflite -o mcu   the C files of an exported file
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from asc_edge.audio.input_norm import INPUT_NORM_PLACES
from asc_edge.export.gate_flags import add_gate_flags
from asc_edge.export.npu import ACCELERATORS, COMPILED_NAME
from asc_edge.export.npu import EXTRA_HINT as NPU_EXTRA_HINT
from asc_edge.plumbing.cli_util import add_quiet, bounded, make_entry_point, positive_int

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
                        help="TAU-layout folder or a folder per label (cut and split as the checkpoint's "
                             "training run recorded): training split calibrates, evaluate split measures fidelity "
                             "(default: the folder recorded in the checkpoint)")
    add_gate_flags(parser)
    parser.add_argument("--ranges", choices=("checkpoint", "percentile", "minmax"), default=None,
                        help="activation ranges: 'checkpoint' = the ranges a QAT checkpoint recorded, written "
                             "as they are, with the fidelity gates against its int8 simulation (default for such "
                             "a checkpoint); 'percentile' = each tensor's 99.99th percentile on the calibration "
                             "clips (default otherwise); 'minmax' = the converter's min/max")
    parser.add_argument("--activations", choices=("int8", "int16"), default="int8",
                        help="activation type: int8 (default) or int16 with int8 weights, written as "
                             "model_int16.tflite / model_int16.h (opt-in: a bigger, "
                             "slower, more faithful file; the same gates apply)")
    parser.add_argument("--input-norm", choices=INPUT_NORM_PLACES, default="features",
                        help="where the input ResNorm runs: 'features' = in float32 before quantisation, "
                             "described in the model card (default; the runtime applies it), 'graph' = inside "
                             "the int8 graph")
    parser.add_argument("--calibration-clips", type=positive_int, default=300,
                        help="training clips for int8 calibration (default: 300)")
    parser.add_argument("--seed", type=bounded(int, minimum=0), default=0,
                        help="order of the calibration draw (default: 0)")
    parser.add_argument("--c-array", action="store_true",
                        help="also write model_int8.h/.cc for TFLite Micro and the model's log-mel frontend in C "
                             "(asc_frontend.c/.h, CMSIS-DSP FFT) with a host program asc_features_main.c")
    parser.add_argument("--c-array-of", metavar="FILE",
                        help="write --c-array's files for an exported .tflite into -o (default: its folder)")
    parser.add_argument("--npu", metavar="ACCELERATOR", choices=ACCELERATORS,
                        help="also compile the int8 file with Arm's Vela for an Ethos-U NPU (e.g. ethos-u55-128, "
                             "ethos-u55-256, ethos-u65-256) and report NPU/CPU ops, SRAM, flash and the estimated "
                             f"time per window; writes {COMPILED_NAME} (needs: {NPU_EXTRA_HINT})")
    parser.add_argument("--about", metavar="FILE.json", default=None,
                        help="a JSON object of descriptive fields to seal into the model card (training data, "
                             "license, cross-validation estimate); it may not replace the card's own fields")
    parser.add_argument("--info", metavar="FILE", help="print an exported .tflite's model card, ops and size")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of the summary")
    add_quiet(parser)
    return parser


def _info(path: str, as_json: bool, npu_accelerator: str | None = None) -> int:
    from asc_edge.export.c_frontend.memory import input_bytes_of, report_memory
    from asc_edge.export.flatbuffer import activation_memory, io_details, op_histogram, tensor_types
    from asc_edge.export.gates import failures, integer_gates
    from asc_edge.export.report import info_lines
    from asc_edge.export.tflm import load as tflm_load
    from asc_edge.modelfile.probe import interpreter_class, probe_model
    from asc_edge.modelfile.read import read_model_file
    from asc_edge.plumbing.errors import ModelFileError

    data, card = read_model_file(path)
    # The same checks as a load (digest, structure, card, then a first load in a child process), so --info
    # never calls a file fine that asc-listen would refuse or crash on.
    probe_model(path, data, card.file_sha256, interpreter_class("auto")[0])
    ops, io, memory = op_histogram(data), io_details(data), activation_memory(data)
    # What a microcontroller would run: a float graph or an operator TFLite Micro lacks is one line, exit 2.
    # int16 I/O means a file exported with --activations int16 (int8 weights): held to that type's checks.
    activations = "int16" if io["input"]["type"] == "INT16" else "int8"
    problems = failures(integer_gates(tensor_types(data), io, activations))
    if problems:
        raise ModelFileError(f"{path}: not a full-integer file for TFLite Micro: {problems[0]}")
    try:
        memory["tflm_arena_bytes"] = tflm_load(data, memory["peak_activation_bytes"]).arena["total_bytes"]
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    npu = None
    if npu_accelerator:
        from asc_edge.export.npu import compile_for_npu

        npu = compile_for_npu(data, npu_accelerator)[0]  # figures only: --info writes nothing
    if as_json:
        mcu = report_memory(len(data), {"arena_measured_bytes": memory["tflm_arena_bytes"]}, card.to_dict(),
                            input_bytes_of(io))
        print(json.dumps({"file": path, "bytes": len(data), "model_card": card.to_dict(), "ops": ops, "io": io,
                          "memory": memory, "mcu_memory": mcu, "npu": npu}, indent=2, sort_keys=True))
    else:
        print("\n".join(info_lines(path, len(data), card.to_dict(), ops, io, memory)))
        if npu:
            from asc_edge.export.npu import npu_lines

            print("\n".join(npu_lines(npu)))
    return 0


def _about(path: str | None) -> dict | None:
    """``--about FILE.json`` read and checked: a JSON object, or one ConfigError line."""
    from asc_edge.plumbing.errors import ConfigError

    if path is None:
        return None
    try:
        about = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--about {path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"--about {path}: not JSON ({exc})") from None
    if not isinstance(about, dict):
        raise ConfigError(f"--about {path}: must hold a JSON object, got {type(about).__name__}")
    return about


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.c_array_of:
        if args.checkpoint or args.info:
            parser.error("give --c-array-of FILE alone, without a checkpoint or --info")
        from asc_edge.export.c_frontend.of_file import c_files_of_model

        print(f"  wrote           {', '.join(map(str, c_files_of_model(args.c_array_of, args.out_dir)))}")
        return 0
    if args.info:
        if args.checkpoint:
            parser.error("give either a checkpoint to export or --info FILE, not both")
        return _info(args.info, args.json, args.npu)
    if not args.checkpoint:
        parser.error("a checkpoint to export is required (or --info FILE)")
    from asc_edge.export.pipeline import ExportSettings, export_checkpoint
    from asc_edge.export.report import summary_lines
    from asc_edge.plumbing.errors import ExportError

    settings = ExportSettings(checkpoint=args.checkpoint, out_dir=args.out_dir, calib=args.calib,
                              max_bytes=args.max_bytes, min_agreement=args.min_agreement,
                              max_drop_pp=args.max_drop_pp, max_log_loss_increase=args.max_log_loss_increase,
                              input_norm=args.input_norm, ranges=args.ranges, activations=args.activations,
                              calibration_clips=args.calibration_clips,
                              seed=args.seed, c_array=args.c_array, npu=args.npu,
                              progress=not args.quiet, about=_about(args.about))

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

if __name__ == "__main__":
    entry_point()
