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


def main() -> None:
    out = Path(sys.argv[1])
    dataset = load_tau(out / "data")
    rows = [json.loads(line) for line in (out / "listen.jsonl").read_text().splitlines()]
    predicted = {Path(r["file"]).name: r["label"] for r in rows if r["kind"] == "file"}
    report = json.loads((out / "export" / "export_report.json").read_text())
    labels = report["model_card"]["labels"]
    bench = json.loads((out / "bench.json").read_text())["engines"]
    clips = dataset.evaluate
    print(f"int8 model in the runtime, macro accuracy on fold1_evaluate ({len(clips)} clips, asc-listen):")
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
    f = report["fidelity"]
    print(f"int8 file: {report['file_bytes']:,} bytes (budget {report['max_bytes']:,}), "
          f"DCASE2021 size {report['dcase2021_size_bytes'] / 1000:.1f} KB, {report['parameters']:,} parameters; "
          f"top-1 agreement with PyTorch {100 * f['top1_agreement']:.1f} %, "
          f"accuracy drop {f['accuracy_drop_pp']:.2f} pp")
    litert = bench["litert int8"]
    line = (f"latency per {report['model_card']['window']['seconds']:.2f} s window (1 thread): int8 LiteRT "
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


if __name__ == "__main__":
    main()
