"""Print the main job's summary from its artefacts: int8 accuracy per device (asc-listen's results on the
evaluate split), file bytes and gates (export_report.json), latency (asc-bench --json).

    python scripts/quickstart_summary.py OUT_DIR [ELAPSED_SECONDS]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from asc_edge.audio.labels import UNSEEN_DEVICES
from asc_edge.data.metrics import macro_accuracy
from asc_edge.data.tau import load_tau
from asc_edge.export.cli import build_parser
from asc_edge.export.gates import gate_lines
from asc_edge.modelfile.quantization import file_kind
from asc_edge.recipe.next_steps import next_steps


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)  # argparse reads both back exactly


def main() -> None:
    out = Path(sys.argv[1])
    dataset = load_tau(out / "data")
    rows = [json.loads(line) for line in (out / "listen.jsonl").read_text().splitlines()]
    predicted = {Path(r["file"]).name: r["label"] for r in rows if r["kind"] == "file"}
    report = json.loads((out / "export" / "export_report.json").read_text())
    labels = report["model_card"]["labels"]
    bench = json.loads((out / "bench.json").read_text())["engines"]
    clips = dataset.evaluate
    kind = file_kind(report["io"]["input"]["type"].lower())
    print(f"{kind} model in the runtime, macro accuracy on fold1_evaluate ({len(clips)} clips, asc-listen):")
    by_device: dict[str, list] = {}
    for clip in clips:
        by_device.setdefault(clip.device, []).append(clip)

    def accuracy(group: list) -> float:
        truth = [labels.index(c.scene) for c in group]
        guess = [labels.index(predicted[Path(c.filename).name]) for c in group]
        return 100 * macro_accuracy(truth, guess, len(labels))

    print("  " + "  ".join(f"{d}{'*' if d in UNSEEN_DEVICES else ''} {accuracy(g):.1f}" for d, g in by_device.items()))
    seen = [c for c in clips if c.device not in UNSEEN_DEVICES]
    unseen = [c for c in clips if c.device in UNSEEN_DEVICES]
    print(f"  all {accuracy(clips):.1f} %, seen devices {accuracy(seen):.1f} %, unseen (*) {accuracy(unseen):.1f} %")
    print(f"{kind} file: {report['file_bytes']:,} bytes, "
          f"DCASE2021 size {report['dcase2021_size_bytes'] / 1000:.1f} KB, "
          f"{report['parameters']:,} parameters; export gates (measured, threshold, verdict):")
    for line in gate_lines(report["gates"]):
        print(f"  {line}")
    litert = next(v for k, v in bench.items() if k.startswith("litert "))  # "litert int8" or "litert int16"
    line = (f"latency per {report['model_card']['window']['seconds']:.2f} s window (1 thread): {kind} LiteRT "
            f"{litert['window_ms_p50']:.2f} ms p50 / {litert['window_ms_p99']:.2f} ms p99, real-time factor "
            f"{litert['real_time_factor']:.4f}, peak RSS {litert['peak_rss_mb']:.0f} MB")
    for name in ("onnxruntime float", "pytorch float"):
        if "window_ms_p50" in bench.get(name, {}):
            line += f"; {name} {bench[name]['window_ms_p50']:.2f} ms"
    print(line)
    print(f"artefacts: {out}/export (model.onnx, model_int8.tflite, model_int8.h/.cc, export_report.json), "
          f"{out}/listen.jsonl, {out}/bench.json")
    if len(sys.argv) > 2:
        print(f"main job wall time: {sys.argv[2]} s")
    # What to try next, on the user's own audio and model; every "$" line runs as printed (tests/test_next_steps.py).
    seen_clip = next((c for c in clips if c.device == "b"), clips[0])
    # The export command repeats the main job's gate flags that differ from asc-export's defaults.
    thresholds = {**report.get("thresholds", {}), "max_bytes": report["max_bytes"]}
    defaults = vars(build_parser().parse_args(["x.pt"]))
    flags = (("min_agreement", "--min-agreement", "min_agreement"), ("max_drop_pp", "--max-drop", "max_drop"),
             ("max_log_loss_increase", "--max-log-loss-increase", "max_log_loss_increase"),
             ("max_bytes", "--max-bytes", "max_bytes"))
    gate_flags = " ".join(f"{flag} {_number(thresholds[key])}" for key, flag, dest in flags
                          if key in thresholds and dest in defaults and thresholds[key] != defaults[dest])
    # ... and the int8 levers it used, so the printed command makes the same file.
    for key, flag in (("activations", "--activations"), ("ranges", "--ranges"), ("input_norm", "--input-norm")):
        if report.get("settings", {}).get(key) not in (None, defaults[key]):
            gate_flags = f"{gate_flags} {flag} {report['settings'][key]}".strip()
    print()
    print("\n".join(next_steps(str(out), str(out / "data" / seen_clip.filename), report["checkpoint"],
                               str(out / "export" / "model_int8.tflite"), gate_flags)))


if __name__ == "__main__":
    main()
