"""File bytes against model width, before and after compaction, for a preset's architecture on a profile.

    .venv/bin/python benchmarks/width_bytes.py --preset student --profile small --widths 18 22 26
    .venv/bin/python benchmarks/width_bytes.py --preset student --profile dcase --widths 18 30 34 --arena

Each row is a real export of an untrained model of that width (ONNX -> onnx2tf -> int8 TFLite converter),
"before" = names stripped and re-serialised by the schema's plain object API (what asc-export wrote before
compaction) plus the card; "final" = ``compact`` then the packaged file's model card embedded and sealed, as
``asc-export`` now writes it (the card is ~1 KB of both).
The byte count depends on the graph (channels, layers, ops), not on weight values, so calibration uses
seeded log-mel-like noise here: fine for bytes, NOT for fidelity (never calibrate a real export on noise).
With --arena it also loads the final file in TFLite Micro and prints the measured arena.
One JSON line per width on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from asc_edge.audio.profiles import get_profile
from asc_edge.export.compact import compact
from asc_edge.export.flatbuffer import embed_model_card, size_breakdown, strip_tensor_names
from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
from asc_edge.export.onnx_file import write_onnx
from asc_edge.export.pipeline import model_card
from asc_edge.export.prepare import split_input_norm
from asc_edge.modelfile.read import read_model_card
from asc_edge.runtime.default_model import __file__ as _default_model_init
from asc_edge.train.fold import fold_subspectral_norms
from asc_edge.train.models import BCResNetMod
from asc_edge.train.presets import preset_config
from asc_edge.train.size import model_size

PACKAGED = Path(_default_model_init).with_name("synth_student_int8.tflite")
WINDOW_SECONDS = {"small": 5.0, "dcase": 10.0}  # the main job's 5 s windows; TAU's 10 s clips


def _plain(tflite: bytes) -> bytes:
    """``tflite`` re-serialised by the schema's plain object API (no sharing), as the export did before."""
    import flatbuffers

    from asc_edge.export.flatbuffer import _unpack

    builder = flatbuffers.Builder(1024)
    builder.Finish(_unpack(tflite).Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def measure(preset: str, profile: str, width: int, arena: bool, save: Path | None = None,
            input_norm: str = "features", seconds: float | None = None) -> dict:
    frontend = get_profile(profile)
    window_s = WINDOW_SECONDS[profile] if seconds is None else seconds
    n_frames = 1 + int(window_s * frontend.sample_rate) // frontend.hop_length
    config = replace(preset_config(preset, frontend.n_mels, 10), width=width)
    model = fold_subspectral_norms(BCResNetMod(config).eval())
    # asc-export --input-norm: "features" moves the input ResNorm to the float32 feature step, "graph" keeps it.
    model, preprocessing = split_input_norm(model) if input_norm == "features" else (model, None)
    size = model_size(BCResNetMod(config).eval(), (1, 1, frontend.n_mels, n_frames))
    calibration = np.random.default_rng(0).normal(-4.0, 2.0, (8, 1, frontend.n_mels, n_frames)).astype(np.float32)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="width-bytes-") as work:
        write_onnx(model, (frontend.n_mels, n_frames), Path(work) / "m.onnx")
        raw = saved_model_to_int8(onnx_to_saved_model(Path(work) / "m.onnx", Path(work) / "saved"), calibration)
    stripped = strip_tensor_names(raw)
    before = _plain(stripped)  # what asc-export wrote before compaction: every vector its own copy
    compacted = compact(stripped)
    # The card asc-export would write for this model (labels of the packaged file, this profile's window).
    checkpoint = {"frontend_config": frontend.to_dict(), "input_shape": [frontend.n_mels, n_frames],
                  "labels": list(read_model_card(PACKAGED.read_bytes()).labels), "preset": preset,
                  "model_config": config.to_dict()}
    card = model_card(checkpoint, b"untrained", preprocessing)
    final = embed_model_card(compacted, card)
    card_bytes = len(final) - len(compacted)
    row = {"preset": preset, "profile": profile, "width": width, "input_norm": input_norm, "window_s": window_s,
           "parameters": size.parameters,
           "before_bytes": len(before) + card_bytes, "final_bytes": len(final), "card_bytes": card_bytes,
           "parts_before": size_breakdown(before), "parts_after": size_breakdown(final),
           "export_s": round(time.perf_counter() - started, 1)}
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        suffix = ("" if input_norm == "features" else "_graphnorm") + ("" if seconds is None else f"_{seconds:g}s")
        row["saved"] = str(save / f"{preset}_{profile}_w{width}{suffix}_int8.tflite")
        Path(row["saved"]).write_bytes(final)
    if arena:
        from asc_edge.export.flatbuffer import activation_memory
        from asc_edge.export.tflm import load

        estimate = activation_memory(final)["peak_activation_bytes"]
        row["arena_estimate_bytes"] = estimate
        row["tflm_arena_bytes"] = load(final, estimate).arena["total_bytes"]
    return row


def table(rows: list[dict]) -> str:
    """The JSON lines of earlier runs as a markdown table (for firmware_notes/generated/)."""
    lines = ["| preset | profile | width | parameters | bytes before | bytes after | TFLM arena |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['profile']} | {r['width']} | {r['parameters']:,} | "
                     f"{r['before_bytes']:,} | {r['final_bytes']:,} | {r.get('tflm_arena_bytes', 0):,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, metavar="JSONL", help="print earlier runs' output as a table, then exit")
    parser.add_argument("--preset")
    parser.add_argument("--profile", choices=sorted(WINDOW_SECONDS))
    parser.add_argument("--widths", type=int, nargs="+")
    parser.add_argument("--arena", action="store_true", help="also measure the TFLite Micro arena")
    parser.add_argument("--save", type=Path, default=None, metavar="DIR",
                        help="also write each final file as DIR/<preset>_<profile>_w<width>_int8.tflite")
    parser.add_argument("--input-norm", choices=("features", "graph"), default="features",
                        help="where the input ResNorm runs, as asc-export --input-norm (graph: saved as *_graphnorm)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="window length in seconds instead of the profile's (small 5, dcase 10): fewer frames")
    args = parser.parse_args(argv)
    if args.table:
        print(table([json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]))
        return 0
    if not (args.preset and args.profile and args.widths):
        parser.error("--preset, --profile and --widths are required (or --table JSONL)")
    for width in args.widths:
        print(json.dumps(measure(args.preset, args.profile, width, args.arena, args.save,
                                    args.input_norm, args.seconds), sort_keys=True),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
