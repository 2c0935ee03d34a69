"""Which model designs survive full-int8 export: train variants of a preset, export each with asc-export's
pipeline (gates reported, not enforced) and print int8 fidelity and file size side by side.

    python benchmarks/int8_fidelity.py --data DATA_DIR [--preset student] [--epochs 30] [--out /tmp/int8-fidelity]
        [--translator T.pt] [--frontend small]

Variants (ModelConfig overrides of the preset): the teacher's full design (SiLU, ResNorm after every stage),
the device presets' design (ReLU, ResNorm at the input only), and that with one SubSpectral Norm band.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from asc_edge.errors import ExportError
from asc_edge.export.pipeline import ExportSettings, export_checkpoint
from asc_edge.train.settings import TrainSettings
from asc_edge.train.trainer import train

VARIANTS = {
    "full design (silu, stage ResNorm)": {"activation": "silu", "stage_resnorm": True},
    "device design (relu, input ResNorm)": {"activation": "relu", "stage_resnorm": False},
    "device design, 1 SSN band": {"activation": "relu", "stage_resnorm": False, "sub_bands": 1},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--preset", default="student")
    parser.add_argument("--frontend", default="small")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--translator", default=None)
    parser.add_argument("--out", default="/tmp/int8-fidelity")
    args = parser.parse_args()
    out = Path(args.out)
    rows = []
    for index, (name, overrides) in enumerate(VARIANTS.items()):
        checkpoint = out / f"variant{index}.pt"
        start = time.perf_counter()
        train(TrainSettings(data=args.data, out=str(checkpoint), preset=args.preset, frontend=args.frontend,
                            epochs=args.epochs, batch_size=16, overwrite=True, progress=False,
                            translator=args.translator, model_overrides=overrides), log=lambda line: None)
        trained = time.perf_counter() - start
        settings = ExportSettings(checkpoint=str(checkpoint), out_dir=str(out / f"variant{index}_export"),
                                  progress=False, min_agreement=0.0, max_drop_pp=100.0)
        try:
            report = export_checkpoint(settings, log=lambda line: None).report
        except ExportError as exc:  # size or op gate: still report the figures
            report = exc.report
        f = report["fidelity"]
        rows.append({"variant": name, "overrides": overrides, "bytes": report["file_bytes"],
                     "ops": report["op_count"], "agreement": f["top1_agreement"],
                     "float_accuracy": f["float_macro_accuracy"], "int8_accuracy": f["int8_macro_accuracy"],
                     "drop_pp": f["accuracy_drop_pp"], "mean_abs_logit_diff": f["mean_abs_logit_diff"],
                     "train_s": round(trained, 1), "export_s": round(sum(report["timings_s"].values()), 1)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"$ python benchmarks/int8_fidelity.py {' '.join(sys.argv[1:])}")
    print("| variant | int8 bytes | ops | top-1 agreement | float acc | int8 acc | drop (pp) | mean abs logit diff |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['bytes']:,} | {r['ops']} | {100 * r['agreement']:.1f} % | "
              f"{100 * r['float_accuracy']:.1f} % | {100 * r['int8_accuracy']:.1f} % | {r['drop_pp']:+.2f} | "
              f"{r['mean_abs_logit_diff']:.3f} |")


if __name__ == "__main__":
    main()
