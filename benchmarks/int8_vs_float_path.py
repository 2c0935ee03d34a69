"""Per-window path, int8 LiteRT against float ONNX Runtime, interleaved in one process (a shared machine's load
then hits both alike), with LiteRT's thread and delegate options.

    python benchmarks/int8_vs_float_path.py MODEL_int8.tflite [--onnx model.onnx] [--runs 100]

The windows are those ``asc-bench`` uses (its generated 30 s clip at 44.1 kHz, read and resampled to the
model's rate). Per run and path: features (the same frontend for both), then the int8 path's
``SceneModel.logits`` (input normalisation if the card has one, quantisation, invoke) or the float ONNX
session. The two single-threaded paths are interleaved run by run; the no-XNNPACK and 2-thread variants are
measured after, one at a time. Prints medians of CPU time (this process's, so waiting for a core does not
count; multi-threaded variants count every thread) and of wall time, per stage, and the int8 vs float
ratio. Target (issue 14): the int8 path per window >= 1.25x faster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _median_ms(values: list[float]) -> float:
    return 1000 * float(np.median(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--onnx", default=None, help="float ONNX file (default: model.onnx beside MODEL)")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    import onnxruntime

    from asc_edge.audio.io import read_audio
    from asc_edge.bench.cli import _write_bench_audio
    from asc_edge.plumbing.memory import keep_freed_memory
    from asc_edge.runtime.model import SceneModel

    keep_freed_memory()
    model = SceneModel(args.model, threads=1)
    onnx_path = args.onnx or str(Path(args.model).with_name("model.onnx"))
    with tempfile.TemporaryDirectory() as work:
        wav = Path(work) / "bench.wav"
        _write_bench_audio(wav, 30.0)
        clip = read_audio(wav, target_rate=model.window.sample_rate)
    window = model.window.samples
    windows = [clip.samples[s:s + window] for s in range(0, clip.samples.size - window + 1, window)]

    def float_infer(threads: int):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda features: session.run(None, {name: features[None, None].astype(np.float32)})

    def no_delegate_infer():
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        other = SceneModel(args.model, threads=1)
        other._interpreter = Interpreter(  # the same model without LiteRT's default XNNPACK delegate
            model_content=Path(args.model).read_bytes(), num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        other._interpreter.allocate_tensors()
        return other.logits

    # Single-threaded paths interleaved first; multi-threaded ones after, one at a time: their thread pools
    # (ONNX Runtime's spin while idle) would otherwise share the cores and the CPU clock with the others.
    phases = [{"litert int8, 1 thread (default: XNNPACK)": model.logits,
               "onnxruntime float, 1 thread": float_infer(1)},
              {"litert int8, 1 thread, no XNNPACK": no_delegate_infer()},
              {"litert int8, 2 threads": SceneModel(args.model, threads=2).logits},
              {"onnxruntime float, 2 threads": float_infer(2)}]
    cpu, wall = {}, {}
    for infer in phases:
        for fn in infer.values():
            fn(model.features(windows[0]))  # warm-up
        for name in infer:
            cpu[name], wall[name] = {"features": [], "infer": []}, {"features": [], "infer": []}
        for i in range(args.runs):
            samples = windows[i % len(windows)]
            for name, fn in infer.items():
                c0, w0 = time.process_time(), time.perf_counter()
                features = model.features(samples)
                c1, w1 = time.process_time(), time.perf_counter()
                fn(features)
                c2, w2 = time.process_time(), time.perf_counter()
                cpu[name]["features"].append(c1 - c0)
                cpu[name]["infer"].append(c2 - c1)
                wall[name]["features"].append(w1 - w0)
                wall[name]["infer"].append(w2 - w1)
        infer.clear()  # release the engines (and their threads) before the next phase
    print(f"{args.model}: {model.frontend_config.name} profile, {len(windows)} windows, {args.runs} runs, "
          "medians in ms: CPU (wall)")
    print("| path | features | quantise + invoke / invoke | window |")
    print("|---|---|---|---|")
    per_window = {}
    for name in cpu:
        f_cpu, i_cpu = _median_ms(cpu[name]["features"]), _median_ms(cpu[name]["infer"])
        total_cpu = _median_ms(np.add(cpu[name]["features"], cpu[name]["infer"]))
        total_wall = _median_ms(np.add(wall[name]["features"], wall[name]["infer"]))
        per_window[name] = (total_cpu, total_wall)
        print(f"| {name} | {f_cpu:.2f} ({_median_ms(wall[name]['features']):.2f}) | {i_cpu:.2f} "
              f"({_median_ms(wall[name]['infer']):.2f}) | {total_cpu:.2f} ({total_wall:.2f}) |")
    int8 = per_window["litert int8, 1 thread (default: XNNPACK)"]
    onnx = per_window["onnxruntime float, 1 thread"]
    ratio = onnx[0] / int8[0]
    print(f"int8 path {ratio:.2f}x faster per window than float ONNX Runtime, 1 thread each, CPU time "
          f"({onnx[1] / int8[1]:.2f}x in wall time) (target >= 1.25x): {'met' if ratio >= 1.25 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
