"""The paper's ablations on a device-imbalanced asc-synth benchmark with unseen devices (s4-s6).

    python benchmarks/ablation.py                 # full: 3 seeds, ~45 min on 2 CPU cores
    python benchmarks/ablation.py --quick         # CI: 1 seed, a tiny set, 1 epoch (a smoke run, not a result)
    python benchmarks/ablation.py --seeds 0 1 2 3 4 --device cuda --out runs/ablation

Variants (student preset unless noted; the same data, epochs and seed for each):
  (a) BC-ResNet-Mod with a BatchNorm input          (b) + ResNorm
  (c) + device-translation augmentation             (d) (c) with knowledge distillation from the teacher
  (e) (d) pruned (25 % of channels, 30 % of weights), QAT, exported to int8 TFLite and run by the runtime
Writes OUT/results.json, OUT/results.md and OUT/ablation.png. Every figure the README quotes comes from here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from asc_edge.data.metrics import evaluate_predictions
from asc_edge.data.synth.generate import generate_dataset
from asc_edge.data.tau import load_tau
from asc_edge.export.pipeline import ExportSettings, export_checkpoint
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.plumbing.errors import ExportError
from asc_edge.runtime.files import classify_source
from asc_edge.runtime.model import SceneModel
from asc_edge.train.checkpoint import load_checkpoint
from asc_edge.train.cli import translator_main
from asc_edge.train.settings import TrainSettings
from asc_edge.train.trainer import train

VARIANTS = {
    "a": "BC-ResNet-Mod, BatchNorm input",
    "b": "+ ResNorm",
    "c": "+ device translation",
    "d": "+ KD from teacher",
    "e": "(d) pruned + QAT, int8 TFLite in the runtime",
}
FULL = {"clips_per_class": 40, "duration": 5.0, "epochs": 30, "teacher_epochs": 30, "preset": "student",
        "teacher": "teacher", "fine_tune_epochs": (10, 5)}
QUICK = {"clips_per_class": 6, "duration": 2.0, "epochs": 1, "teacher_epochs": 1, "preset": "tiny",
         "teacher": "tiny", "fine_tune_epochs": (1, 1)}


def _log(message: str) -> None:
    print(f"[ablation {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _summary(metrics: dict) -> dict:
    return {"accuracy": metrics["accuracy"], "log_loss": metrics["log_loss"],
            "seen": metrics["seen"]["accuracy"], "unseen": metrics["unseen"]["accuracy"]}


def _export(checkpoint: Path, out: Path, data: Path) -> dict:
    settings = ExportSettings(checkpoint=str(checkpoint), out_dir=str(out), calib=str(data), progress=False,
                              min_agreement=0.0, max_drop_pp=100.0,  # the figures are what we want here
                              max_log_loss_increase=100.0)
    try:
        return export_checkpoint(settings, log=lambda line: None).report
    except ExportError as exc:  # a size gate: keep the figures, note the failure
        return exc.report


def _runtime_metrics(tflite: Path, data: Path) -> dict:
    dataset = load_tau(data)
    model = SceneModel(tflite)
    probabilities = [classify_source(model, str(data / clip.filename)).probabilities for clip in dataset.evaluate]
    labels = [model.labels.index(clip.scene) for clip in dataset.evaluate]
    return evaluate_predictions(labels, np.array(probabilities), [clip.device for clip in dataset.evaluate],
                                labels=model.labels)


def run_seed(seed: int, data: Path, out: Path, plan: dict, device: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    common = {"data": str(data), "frontend": "small", "batch_size": 16, "seed": seed, "progress": False,
              "overwrite": True, "device": device, "epochs": plan["epochs"]}
    translator = out.parent / "translator.pt"
    results = {}

    def fit(name: str, **settings) -> Path:
        path = out / f"{name}.pt"
        start = time.perf_counter()
        train(TrainSettings(out=str(path), **{**common, **settings}), log=lambda line: None)
        _log(f"seed {seed}: {name} trained in {time.perf_counter() - start:.0f} s")
        return path

    a = fit("a", preset=plan["preset"], resnorm="batch")
    b = fit("b", preset=plan["preset"])
    c = fit("c", preset=plan["preset"], translator=str(translator))
    teacher = fit("teacher", preset=plan["teacher"], translator=str(translator), epochs=plan["teacher_epochs"])
    d = fit("d", preset=plan["preset"], translator=str(translator), teachers=(str(teacher),))
    pruned = fit("d_pruned", init=str(d), prune_structured=0.25, prune_unstructured=0.3,
                 epochs=plan["fine_tune_epochs"][0], translator=str(translator), teachers=(str(teacher),))
    e = fit("e", init=str(pruned), qat=True, lr=3e-4, epochs=plan["fine_tune_epochs"][1],
            translator=str(translator), teachers=(str(teacher),))
    for name, path in {"a": a, "b": b, "c": c, "d": d, "e": e, "teacher": teacher}.items():
        checkpoint = load_checkpoint(path)
        size = checkpoint["size"]
        row = {"parameters": size["parameters"], "nonzero_parameters": size["nonzero_parameters"],
               "dcase_size_bytes": size["dcase_size_bytes"], **_summary(checkpoint["metrics"])}
        if name != "teacher":
            report = _export(path, out / f"{name}_export", data)
            row["tflite_bytes"] = report["file_bytes"]
            row["int8_agreement"] = report["fidelity"]["top1_agreement"]
        if name == "e":  # the deployed path: the int8 file through the runtime, from the audio files
            row.update(_summary(_runtime_metrics(out / "e_export" / "model_int8.tflite", data)))
            row["measured_by"] = "asc_edge.runtime on the evaluate WAVs (int8 LiteRT)"
        results[name] = row
    _log(f"seed {seed}: " + ", ".join(f"{k} {100 * v['accuracy']:.1f}" for k, v in results.items()))
    return results


def aggregate(per_seed: list[dict]) -> dict:
    table = {}
    for name in [*VARIANTS, "teacher"]:
        rows = [seed[name] for seed in per_seed]
        numeric = [key for key in rows[0] if isinstance(rows[0][key], (int, float))]
        table[name] = {key: {"mean": float(np.mean([r[key] for r in rows])),
                             "std": float(np.std([r[key] for r in rows]))} for key in numeric}
    return table


def markdown(table: dict, seeds: list[int], command: str) -> str:
    def pm(row: dict, key: str, scale: float = 100.0, digits: int = 1) -> str:
        return f"{scale * row[key]['mean']:.{digits}f} ± {scale * row[key]['std']:.{digits}f}"

    plural = "s" if len(seeds) > 1 else ""
    lines = [f"`{command}` — {len(seeds)} seed{plural} ({', '.join(map(str, seeds))}), mean ± std",
             "", "| variant | macro accuracy % | log loss | seen devices % | unseen (s4-s6) % | parameters "
             "(non-zero) | DCASE2021 size | .tflite bytes |", "|---|---|---|---|---|---|---|---|"]
    for name, label in [*VARIANTS.items(), ("teacher", "teacher (KD source)")]:
        row = table[name]
        tflite = f"{row['tflite_bytes']['mean']:,.0f}" if "tflite_bytes" in row else "-"
        params = f"{row['parameters']['mean']:,.0f} ({row['nonzero_parameters']['mean']:,.0f})"
        lines.append(f"| ({name}) {label} | {pm(row, 'accuracy')} | {pm(row, 'log_loss', 1, 3)} | "
                     f"{pm(row, 'seen')} | {pm(row, 'unseen')} | {params} | "
                     f"{row['dcase_size_bytes']['mean'] / 1000:.1f} KB | {tflite} |")
    return "\n".join(lines) + "\n"


def plot(table: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(VARIANTS)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 4))
    for offset, key, label in ((-0.25, "accuracy", "all devices"), (0, "seen", "seen devices"),
                               (0.25, "unseen", "unseen devices (s4-s6)")):
        ax.bar(x + offset, [100 * table[n][key]["mean"] for n in names], 0.25,
               yerr=[100 * table[n][key]["std"] for n in names], label=label, capsize=3)
    ax.set_xticks(x, [f"({n})" for n in names])
    ax.set_ylabel("macro accuracy % (mean ± std over seeds)")
    ax.set_title("asc-synth ablation: " + "; ".join(f"({n}) {VARIANTS[n]}" for n in names[:3]), fontsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: tiny set, 1 seed, 1 epoch")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--out", default="runs/ablation")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    out = Path(args.out)
    data = out / "data"
    if not (data / "meta.csv").is_file():
        _log(f"generating the asc-synth benchmark in {data}")
        generate_dataset(data, clips_per_class=plan["clips_per_class"], duration=plan["duration"],
                         sample_rate=16000, seed=5, progress=False)
    if not (out / "translator.pt").is_file():
        run_cli(translator_main, ["--data", str(data), "--out", str(out / "translator.pt"), "--frontend", "small",
                                  "--quiet"], prog="asc-train translator")
    start = time.perf_counter()
    per_seed = [run_seed(seed, data, out / f"seed{seed}", plan, args.device) for seed in seeds]
    table = aggregate(per_seed)
    command = "python benchmarks/ablation.py " + " ".join(sys.argv[1:])
    (out / "results.json").write_text(json.dumps({"command": command, "seeds": seeds, "plan": plan,
                                                  "per_seed": per_seed, "summary": table,
                                                  "wall_s": time.perf_counter() - start}, indent=2))
    text = markdown(table, seeds, command.strip())
    (out / "results.md").write_text(text)
    plot(table, out / "ablation.png")
    print(text)
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, {out / 'ablation.png'} "
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
