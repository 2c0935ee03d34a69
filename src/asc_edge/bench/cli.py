"""``asc-bench MODEL.tflite``: cold start, per-stage times, latency percentiles, real-time factor, peak RSS.

    asc-bench model_int8.tflite                         the integer file under LiteRT (+ model.onnx beside it)
    asc-bench model_int8.tflite --checkpoint model.pt   also the PyTorch model, side by side
    asc-bench model_int8.tflite --json
    asc-bench small/model_int8.tflite dcase/model_int8.tflite    several files side by side (choose a preset)
    asc-bench model_int8.tflite --mcu qemu-cortex-m4 [--clip WAV] [--json]   on an emulated Cortex-M4F

Each engine runs in its own process on the same audio: a generated 30 s clip at 44.1 kHz (read, resampled to
the model's rate, cut into windows). PyTorch and ONNX Runtime are measured only when installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from asc_edge.plumbing.cli_util import bounded, make_entry_point, thread_count
from asc_edge.plumbing.errors import AscEdgeError

PROG = "asc-bench"
BENCH_RATE = 44_100  # a typical USB microphone / file rate: the path includes resampling


def _write_bench_audio(path: Path, seconds: float) -> None:
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * BENCH_RATE)) / BENCH_RATE
    audio = 0.1 * rng.standard_normal(t.size) + 0.2 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    soundfile.write(str(path), audio.astype(np.float32), BENCH_RATE, subtype="PCM_16")


def _run_worker(command: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise AscEdgeError(f"benchmark worker {command[0]} failed: {tail[:300]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(model: str, threads: int, runs: int, onnx: str | None, checkpoint: str | None,
            seconds: float) -> dict:
    from asc_edge.modelfile.probe import interpreter_class, probe_model
    from asc_edge.modelfile.read import read_model_file
    from asc_edge.modelfile.structure import validate

    # One clear line for a bad model before any worker starts; the first load's child-process probe runs
    # here, so the worker's cold start does not include it.
    data, card = read_model_file(model)
    probe_model(model, data, card.file_sha256, interpreter_class("auto")[0], threads)
    results: dict = {"model": model, "threads": threads, "runs": runs, "engines": {}}
    with tempfile.TemporaryDirectory(prefix="asc-bench-") as work:
        wav = Path(work) / "bench.wav"
        _write_bench_audio(wav, seconds)
        common = [str(wav), str(threads), str(runs)]
        # "litert int8", or "litert int16" for a file exported with --activations int16 (int8 weights either way)
        litert = f"litert {validate(data).input.type.lower()}"
        results["engines"][litert] = _run_worker(["asc_edge.bench.worker", "litert", model, *common])
        onnx_path = Path(onnx) if onnx else Path(model).with_name("model.onnx")
        if importlib.util.find_spec("onnxruntime") is None:
            results["engines"]["onnxruntime float"] = {"skipped": "onnxruntime is not installed"}
        elif not onnx_path.is_file():
            results["engines"]["onnxruntime float"] = {"skipped": f"no ONNX file ({onnx_path}); pass --onnx"}
        else:
            results["engines"]["onnxruntime float"] = _run_worker(
                ["asc_edge.bench.worker", "onnx", model, *common, str(onnx_path)])
        if importlib.util.find_spec("torch") is None:
            results["engines"]["pytorch float"] = {"skipped": "torch is not installed"}
        elif not checkpoint:
            results["engines"]["pytorch float"] = {"skipped": "no checkpoint; pass --checkpoint"}
        else:
            results["engines"]["pytorch float"] = _run_worker(["asc_edge.bench.torch_worker", checkpoint, *common])
    return results


_COLUMNS = ("| engine | window p50 / p90 / p99 (ms) | features (ms; x the bare FFT) | invoke (ms) | "
            "read+resample (ms) | real-time factor | cold start (s) | peak RSS (MB) |")


def _over_floor(result: dict) -> str:
    """The features' time over the bare float32 FFT of the same frames, timed in the same run."""
    return f"{result['features_ms_p50'] / result['fft_floor_ms_p50']:.2f}x"


def _rows(results: dict, model_column: bool) -> list[str]:
    lead = f"| {results['model']} " if model_column else ""
    rows = []
    for name, r in results["engines"].items():
        if "skipped" in r:
            rows.append(f"{lead}| {name} | skipped: {r['skipped']} | | | | | | |")
            continue
        rows.append(f"{lead}| {name} | {r['window_ms_p50']:.2f} / {r['window_ms_p90']:.2f} / "
                    f"{r['window_ms_p99']:.2f} | {r['features_ms_p50']:.2f} ({_over_floor(r)}) | "
                    f"{r['invoke_ms_p50']:.2f} | "
                    f"{r['read_resample_ms']:.1f} ({r['audio_seconds']:.0f} s at {r['source_rate']} Hz) | "
                    f"{r['real_time_factor']:.4f} | {r['cold_start_s']:.2f} | {r['peak_rss_mb']:.0f} |")
    return rows


def table(results: dict) -> str:
    """One model's engines; or, for ``{"models": [...]}``, every model's rows in one table, side by side."""
    if "models" in results:
        first = results["models"][0]
        lines = [f"{PROG}: {len(results['models'])} files, {first['threads']} thread(s), {first['runs']} windows "
                 f"per engine, each engine of each file in its own process", "| file " + _COLUMNS,
                 "|---" * 9 + "|"]
        for one in results["models"]:
            lines.extend(_rows(one, model_column=True))
        return "\n".join(lines)
    lines = [f"{PROG} {results['model']}: {results['threads']} thread(s), {results['runs']} windows per engine",
             _COLUMNS, "|---|---|---|---|---|---|---|---|"]
    return "\n".join(lines + _rows(results, model_column=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("models", nargs="*", metavar="model",
                        help="asc-export .tflite files, timed one after another on the same audio and shown side by "
                             "side (default: the packaged model)")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="interpreter threads, at most 4 per core (default: 1)")
    parser.add_argument("--runs", type=bounded(int, minimum=1, maximum=100_000), default=200,
                        help="windows timed per engine (default: 200)")
    parser.add_argument("--onnx", default=None, help="float ONNX file (default: model.onnx beside MODEL)")
    parser.add_argument("--checkpoint", default=None, help="asc-train checkpoint for the PyTorch column")
    # The clip is generated in memory, float64, several arrays at once: measured peak RSS of
    # _write_bench_audio 142 MB for 60 s, 1.07 GB for 600 s. Two minutes (~250 MB) still fits a 512 MB
    # Pi Zero 2 W and holds 24 windows of a 5 s model; --runs sets how many windows are timed.
    parser.add_argument("--seconds", type=bounded(float, minimum=1.0, maximum=120.0), default=30.0,
                        help="length of the generated test audio (1 to 120 s; default: 30)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--mcu", metavar="BOARD", choices=("qemu-cortex-m4",),
                        help="instead: build the model's firmware (C frontend + TFLite Micro from ASC_TFLM_SRC) for "
                             "BOARD (qemu-cortex-m4: an emulated Cortex-M4F) and report its outputs, flash, RAM and "
                             "instructions per window")
    parser.add_argument("--clip", metavar="WAV", default=None,
                        help="with --mcu: the audio the firmware classifies (default: two windows of noise)")
    args = parser.parse_args(argv)
    if args.mcu or args.clip:
        return _mcu(args)
    if len(args.models) > 1 and (args.onnx or args.checkpoint):
        raise AscEdgeError("--onnx and --checkpoint belong to one model; with several files each file's "
                           "model.onnx beside it is timed")
    if not args.models:
        from asc_edge.runtime.packaged import default_model_path

        with default_model_path() as path:
            results = measure(str(path), args.threads, args.runs, args.onnx, args.checkpoint, args.seconds)
    elif len(args.models) == 1:
        results = measure(args.models[0], args.threads, args.runs, args.onnx, args.checkpoint, args.seconds)
    else:
        # every file is checked (one clear line for a bad one) before the first is timed
        from asc_edge.modelfile.read import read_model_file

        for model in args.models:
            read_model_file(model)
        results = {"models": [measure(model, args.threads, args.runs, None, None, args.seconds)
                              for model in args.models]}
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


def _mcu(args: argparse.Namespace) -> int:
    from asc_edge.mcu.report import mcu_bench, mcu_lines

    if not args.mcu:
        raise AscEdgeError("--clip belongs to --mcu")
    if len(args.models) > 1:
        raise AscEdgeError("--mcu takes one model file")
    if args.models:
        result = mcu_bench(args.models[0], args.mcu, args.clip)
    else:
        from asc_edge.runtime.packaged import default_model_path

        with default_model_path() as path:
            result = mcu_bench(str(path), args.mcu, args.clip)
    print(json.dumps({"mcu": result}, indent=2) if args.json else "\n".join(mcu_lines(result)))
    return 0


entry_point = make_entry_point(main, PROG)

if __name__ == "__main__":
    entry_point()
