"""The int8 step, preset x profile x data set x seed: asc-train's defaults (float epochs, then converter-faithful
QAT epochs), then `asc-export` with its defaults (the checkpoint's own ranges, pure int8, default gates).

For each checkpoint it prints the float model before the int8 step, the int8 simulation after it, the file,
and the file's fidelity (against the simulation, as the gates measure it, and against the plain float forward
of the same weights), bytes, TFLite Micro's arena and agreement, LiteRT's invoke time and the gates' verdict.

    python benchmarks/int8_fidelity.py --data DATA_DIR [--translator T.pt] [--presets student tiny]
        [--frontends small] [--seeds 0 1 2] [--epochs 30] [--relu6] [--out DIR] [--tag NAME] [--checkpoint C.pt ...]

``--checkpoint`` measures given checkpoints instead of training. Rows also go to ``OUT/rows.jsonl`` (one per
checkpoint), so several invocations (other sets, two processes on two cores) build one table:
``--table-only`` prints the table of everything in OUT.
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

from asc_edge.export.pipeline import ExportSettings, export_checkpoint, tflite_name
from asc_edge.plumbing.errors import ExportError
from asc_edge.train.checkpoint import load_checkpoint


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


def measure(checkpoint: Path, out: Path, tag: str) -> dict:
    """Export ``checkpoint`` with asc-export's defaults; every figure of the row."""
    stored = load_checkpoint(checkpoint)
    export_dir = out / f"{checkpoint.stem}_export"
    settings = ExportSettings(checkpoint=str(checkpoint), out_dir=str(export_dir), progress=False)
    try:
        report = export_checkpoint(settings, log=lambda line: None).report
        speed = invoke_ms((export_dir / tflite_name(settings.activations)).read_bytes())
    except ExportError as exc:  # a refused file: its figures are still reported
        if getattr(exc, "report", None) is None:  # refused before any figure existed (conversion failed)
            print(json.dumps({"checkpoint": checkpoint.stem, "error": str(exc)}), file=sys.stderr, flush=True)
            raise
        report, speed = exc.report, float("nan")
    f, micro = report["fidelity"], report.get("tflm") or {}
    plain = f.get("vs_plain_float") or f
    float_metrics = stored.get("metrics_float") or stored["metrics"]
    row = {"tag": tag, "checkpoint": checkpoint.stem, "float_accuracy": float_metrics["accuracy"],
           "int8_step_accuracy": stored["metrics"]["accuracy"], "file_accuracy": f["int8_macro_accuracy"],
           "agreement": f["top1_agreement"], "decisive": f["top1_agreement_decisive"],
           "unseen": f["top1_agreement_unseen_devices"], "vs_plain_float": plain["top1_agreement"],
           "drop_pp": f["accuracy_drop_pp"], "log_loss_increase": f["log_loss_increase"],
           "kl": f["mean_kl_float_int8"], "bytes": report["file_bytes"],
           "tflm_arena": micro.get("arena_measured_bytes"),
           "tflm_agreement": (micro.get("fidelity_tflm") or {}).get("top1_agreement"),
           "tflm_vs_litert": micro.get("top1_same_as_litert"),
           "invoke_ms": speed, "passed": report["passed"], "ranges": report["settings"]["ranges"]}
    with (out / "rows.jsonl").open("a") as rows:
        rows.write(json.dumps(row) + "\n")
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def train_checkpoints(args: argparse.Namespace, out: Path) -> Iterator[Path]:
    """Each (profile, preset, seed) trained with asc-train's defaults, yielded as soon as it exists."""
    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    for frontend in args.frontends:
        for preset in args.presets:
            for seed in args.seeds:
                lever = "_relu6" if args.relu6 else ""
                path = out / f"{args.tag}_{preset}{lever}_{frontend}_seed{seed}.pt"
                if not path.is_file():
                    train(TrainSettings(data=args.data, out=str(path), preset=preset, frontend=frontend,
                                        epochs=args.epochs, seed=seed, overwrite=True, progress=False,
                                        translator=args.translator,
                                        model_overrides={"relu6": True} if args.relu6 else {}),
                          log=lambda line: None)
                yield path


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _tflm_vs_litert(row: dict, out: Path) -> float | None:
    """TFLite Micro's top-1 equal to LiteRT's on the same file (the two kernel families, no simulation involved);
    rows written before the column existed read it from their export report."""
    if "tflm_vs_litert" in row:
        return row["tflm_vs_litert"]
    report = out / f"{row['checkpoint']}_export" / "export_report.json"
    return (json.loads(report.read_text()).get("tflm") or {}).get("top1_same_as_litert") if report.is_file() else None


def _span(values: list[float | None]) -> str:
    """min-max in percent of the figures that exist."""
    known = [100 * v for v in values if v is not None]
    return f"{min(known):.1f}-{max(known):.1f}" if known else "-"


def table(rows: list[dict], out: Path) -> str:
    lines = ["| set | checkpoint | float -> int8 step -> file (macro acc. %) | agreement all / decisive / unseen | "
             "vs plain float | drop (pp) | log-loss increase | KL | bytes | TFLM arena | TFLM agreement | "
             "TFLM = LiteRT | invoke (ms) | default gates |", "|---" * 14 + "|"]
    for r in rows:
        lines.append(
            f"| {r['tag']} | {r['checkpoint']} | {_pct(r['float_accuracy'])} -> {_pct(r['int8_step_accuracy'])} -> "
            f"{_pct(r['file_accuracy'])} | {_pct(r['agreement'])} / {_pct(r['decisive'])} / {_pct(r['unseen'])} % | "
            f"{_pct(r['vs_plain_float'])} % | {r['drop_pp']:+.2f} | {r['log_loss_increase']:+.4f} | {r['kl']:.5f} | "
            f"{r['bytes']:,} | {r['tflm_arena'] or 0:,} | {_pct(r['tflm_agreement'])} % | "
            f"{_pct(_tflm_vs_litert(r, out))} % | {r['invoke_ms']:.2f} | "
            f"{'pass' if r['passed'] else 'FAIL'} |")
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["tag"], r["checkpoint"].rsplit("_seed", 1)[0]), []).append(r)
    lines += ["", "| set | model | runs | float / int8 step / file (mean macro acc. %) | "
              "int8 step cost (pp, float - simulation) | file agreement % | TFLM agreement % | TFLM = LiteRT % | "
              "invoke (ms, mean) | all default gates |", "|---" * 10 + "|"]
    for (tag, model), runs in groups.items():
        cost = [100 * (r["float_accuracy"] - r["int8_step_accuracy"]) for r in runs]
        spread = f" ± {statistics.stdev(cost):.2f}" if len(cost) > 1 else ""
        means = " / ".join(f"{100 * statistics.mean(r[key] for r in runs):.1f}"
                           for key in ("float_accuracy", "int8_step_accuracy", "file_accuracy"))
        lines.append(f"| {tag} | {model} | {len(runs)} | {means} | {statistics.mean(cost):+.2f}{spread} | "
                     f"{_span([r['agreement'] for r in runs])} | {_span([r['tflm_agreement'] for r in runs])} | "
                     f"{_span([_tflm_vs_litert(r, out) for r in runs])} | "
                     f"{statistics.mean(r['invoke_ms'] for r in runs):.2f} | "
                     f"{sum(r['passed'] for r in runs)}/{len(runs)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--presets", nargs="+", default=["student", "tiny"])
    parser.add_argument("--frontends", nargs="+", default=["small"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--translator", default=None)
    parser.add_argument("--relu6", action="store_true",
                        help="the bounded-activation lever: every ReLU of the preset is a ReLU6 (ModelConfig.relu6)")
    parser.add_argument("--tag", default="set", help="names this data set's rows in the table")
    parser.add_argument("--checkpoint", nargs="+", default=None, help="measure these instead of training")
    parser.add_argument("--table-only", action="store_true", help="print the table of OUT/rows.jsonl and exit")
    parser.add_argument("--out", default="/tmp/int8-fidelity")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        if not args.checkpoint and not args.data:
            parser.error("give --data (to train) or --checkpoint")
        checkpoints = [Path(c) for c in args.checkpoint] if args.checkpoint else train_checkpoints(args, out)
        for checkpoint in checkpoints:
            measure(checkpoint, out, args.tag)
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines() if line.strip()]
    print(f"$ python benchmarks/int8_fidelity.py {' '.join(sys.argv[1:])}")
    print(table(rows, out))


if __name__ == "__main__":
    main()
