"""How faithful the exported file is, lever by lever: train presets (asc-train's defaults), export each with the
levers off ("before") and on, and print fidelity, bytes and LiteRT invoke time side by side (gates reported,
not enforced).

    python benchmarks/int8_fidelity.py --data DATA_DIR [--presets student tiny] [--frontends small]
        [--seeds 0 1 2] [--epochs 30] [--translator T.pt] [--out /tmp/int8-fidelity] [--checkpoint C.pt ...]

``--checkpoint`` skips training and measures the given checkpoints instead (e.g. the main job's model).

Export variants (``ExportSettings`` overrides):
  before              input ResNorm inside the int8 graph, the converter's min/max ranges (the previous default)
  + float input norm  the input ResNorm in float32 before quantisation (model card ``preprocessing``)
  + percentile ranges both levers: the default export
  int16 activations   the default export with ``--activations int16`` (opt-in, never the default)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from asc_edge.export.pipeline import TFLITE_NAME, ExportSettings, export_checkpoint
from asc_edge.plumbing.errors import ExportError

VARIANTS = {
    "before": {"input_norm": "graph", "ranges": "minmax"},
    "+ float input norm": {"input_norm": "features", "ranges": "minmax"},
    "+ percentile ranges (default)": {},
    "int16 activations (opt-in)": {"activations": "int16"},
}


def invoke_ms(tflite: bytes, runs: int = 30) -> float:
    """Median LiteRT invoke time (1 thread, default kernels) on a zero input."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite, num_threads=1)
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    interpreter.set_tensor(inp["index"], np.zeros(inp["shape"], dtype=inp["dtype"]))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def measure(checkpoint: Path, out: Path) -> list[dict]:
    rows = []
    for index, (name, overrides) in enumerate(VARIANTS.items()):
        export_dir = out / f"{checkpoint.stem}_variant{index}"
        settings = ExportSettings(checkpoint=str(checkpoint), out_dir=str(export_dir), progress=False,
                                  min_agreement=0.0, max_drop_pp=100.0, max_log_loss_increase=100.0, **overrides)
        try:
            report = export_checkpoint(settings, log=lambda line: None).report
            tflite = (export_dir / TFLITE_NAME).read_bytes()
            speed = invoke_ms(tflite)
        except ExportError as exc:  # a size or op gate: still report the figures
            report, speed = exc.report, float("nan")
        f = report["fidelity"]
        rows.append({"checkpoint": str(checkpoint), "variant": name, "bytes": report["file_bytes"],
                     "agreement": f["top1_agreement"], "decisive": f["top1_agreement_decisive"],
                     "unseen": f["top1_agreement_unseen_devices"], "drop_pp": f["accuracy_drop_pp"],
                     "log_loss_increase": f["log_loss_increase"], "kl": f["mean_kl_float_int8"],
                     "invoke_ms": speed, "passed_default_gates": _passes_defaults(f)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _passes_defaults(f: dict) -> bool:
    """The default fidelity gates (the variants export with relaxed gates so that every figure is reported)."""
    defaults = ExportSettings(checkpoint="")
    return (f["top1_agreement"] >= defaults.min_agreement and f["accuracy_drop_pp"] <= defaults.max_drop_pp
            and f["log_loss_increase"] <= defaults.max_log_loss_increase)


def train_checkpoints(args: argparse.Namespace, out: Path) -> Iterator[Path]:
    """Each (profile, preset, seed) trained with asc-train's defaults, yielded as soon as it exists."""
    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    for frontend in args.frontends:
        for preset in args.presets:
            for seed in args.seeds:
                path = out / f"{preset}_{frontend}_seed{seed}.pt"
                if not path.is_file():
                    train(TrainSettings(data=args.data, out=str(path), preset=preset, frontend=frontend,
                                        epochs=args.epochs, seed=seed, overwrite=True, progress=False,
                                        translator=args.translator), log=lambda line: None)
                yield path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--presets", nargs="+", default=["student", "tiny"])
    parser.add_argument("--frontends", nargs="+", default=["small"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--translator", default=None)
    parser.add_argument("--checkpoint", nargs="+", default=None, help="measure these instead of training")
    parser.add_argument("--out", default="/tmp/int8-fidelity")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.checkpoint and not args.data:
        parser.error("give --data (to train) or --checkpoint")
    checkpoints = [Path(c) for c in args.checkpoint] if args.checkpoint else train_checkpoints(args, out)
    rows = [row for checkpoint in checkpoints for row in measure(checkpoint, out)]
    print(f"$ python benchmarks/int8_fidelity.py {' '.join(sys.argv[1:])}")
    print("| checkpoint | export | bytes | agreement all / decisive / unseen | drop (pp) | log-loss increase | "
          "KL | invoke (ms) | default gates |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        decisive = "-" if r["decisive"] is None else f"{100 * r['decisive']:.1f}"
        unseen = "-" if r["unseen"] is None else f"{100 * r['unseen']:.1f}"
        print(f"| {Path(r['checkpoint']).stem} | {r['variant']} | {r['bytes']:,} | {100 * r['agreement']:.1f} / "
              f"{decisive} / {unseen} % | {r['drop_pp']:+.2f} | {r['log_loss_increase']:+.3f} | {r['kl']:.4f} | "
              f"{r['invoke_ms']:.2f} | {'pass' if r['passed_default_gates'] else 'fail'} |")


if __name__ == "__main__":
    main()
