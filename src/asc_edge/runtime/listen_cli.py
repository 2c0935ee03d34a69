"""``asc-listen``: classify audio files, folders, stdin or a live microphone with an int8 .tflite model.

    asc-listen clip.wav                      the packaged default model, a table
    asc-listen recordings/ --format jsonl --out results.jsonl
    cat clip.wav | asc-listen -
    asc-listen --list-devices
    asc-listen --mic --device 2 --hop 1 --smooth mean --min-confidence 0.4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from asc_edge.plumbing.cli_util import (
    EXIT_BAD_INPUT,
    bounded,
    fraction,
    make_entry_point,
    positive,
    positive_int,
    thread_count,
)

PROG = "asc-listen"
EXIT_SOME_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    from asc_edge.runtime.backend import BACKENDS
    from asc_edge.runtime.formats import FORMATS
    from asc_edge.runtime.packaged import DEFAULT_MODEL_NOTE

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Classify the acoustic scene of audio files (any rate, any channel count: downmixed and "
                    "resampled to the model's) or of a live microphone, with an int8 TFLite model exported by "
                    "asc-export. Long audio is analysed in windows of the model's length; each window and each "
                    "file gets softmax probabilities. Exit code 2 on bad input, 1 when some files of a batch "
                    "failed (the others are still reported).",
        epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("inputs", nargs="*", help="audio files, folders (searched recursively) or - for stdin")
    parser.add_argument("--model", default=None, help=f"asc-export .tflite file (default: {DEFAULT_MODEL_NOTE})")
    parser.add_argument("--backend", default="auto", choices=("auto", *BACKENDS),
                        help="interpreter (default: ai-edge-litert, else tflite-runtime, else tensorflow)")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="interpreter threads, at most 4 per core (default: 1)")
    parser.add_argument("--hop", type=positive, default=None,
                        help="seconds between window starts, from one frontend hop to one window (default: "
                             "files the window length, --mic 1)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="classes shown per result (default: 3)")
    parser.add_argument("--format", default=None, choices=FORMATS,
                        help="output format (default: table; --mic: a live line per decision)")
    parser.add_argument("--out", default=None,
                        help="write results to this file (atomically: complete or not at all) instead of stdout; "
                             "checked before any work: not a folder, symlink, device or input")
    parser.add_argument("--min-duration", type=bounded(float, minimum=0.0, maximum=86400.0), default=None,
                        help="too-short audio: a file shorter than this many seconds is refused with one line "
                             "(default: 1 s: an acoustic scene needs seconds, and a shorter clip looped to fill a "
                             "window is mostly its own repetition); a file between this and one window is looped "
                             "to fill the window and marked 'looped' (csv/jsonl field, a note in the table)")
    mic = parser.add_argument_group("microphone")
    mic.add_argument("--mic", action="store_true", help="classify a live input device")
    mic.add_argument("--device", default=None, help="input device index or name (default: the system default)")
    mic.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    mic.add_argument("--capture-rate", type=positive_int, default=None,
                     help="capture rate in Hz (default: the device's native rate; resampled to the model's)")
    mic.add_argument("--block-size", type=bounded(int, minimum=0, maximum=1 << 20), default=0,
                     help="frames per audio callback (default: 0, any)")
    mic.add_argument("--smooth", default="none", choices=("none", "mean", "ema"),
                     help="smooth probabilities over windows (default: none)")
    mic.add_argument("--smooth-windows", type=bounded(int, minimum=1, maximum=1000), default=3,
                     help="windows in the moving average")
    mic.add_argument("--ema-alpha", type=fraction, default=0.5, help="weight of the newest window in the EMA")
    mic.add_argument("--min-confidence", type=fraction, default=0.0,
                     help="below this smoothed probability the decision is 'uncertain' (default: 0)")
    mic.add_argument("--seconds", type=positive, default=None, help="stop after this much audio (default: Ctrl-C)")
    mic.add_argument("--timeout", type=bounded(float, above=0.0, maximum=3600.0), default=5.0,
                     help="give up when the device delivers nothing for this long (default: 5 s)")
    mic.add_argument("--record", default=None, help="also save the captured audio (WAV at the capture rate)")
    return parser


def _load_model(args: argparse.Namespace):
    from asc_edge.runtime.model import SceneModel
    from asc_edge.runtime.packaged import default_model_path

    if args.model:
        return SceneModel(args.model, backend=args.backend, threads=args.threads)
    with default_model_path() as path:
        return SceneModel(path, backend=args.backend, threads=args.threads)


def _check_hop(hop: float | None, model) -> None:
    """A hop below one frontend hop only repeats windows (1e-9 would ask for billions), one above the window
    skips audio: refuse both with the range this model allows."""
    if hop is None:
        return
    from asc_edge.plumbing.errors import ConfigError

    shortest = model.frontend_config.hop_length / model.frontend_config.sample_rate
    if not shortest <= hop <= model.window.seconds:
        raise ConfigError(f"--hop {hop:g}: must be between one frontend hop ({shortest:g} s) and one window "
                          f"({model.window.seconds:g} s) for this model")


def _write_output(text: str, out: str | None) -> bool:
    """Write the results; a failure (full disk, closed stdout) is one line and False, never a traceback."""
    from asc_edge.plumbing.atomic_io import OutputError, write_text_atomic

    try:
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_text_atomic(out, text)
    except BrokenPipeError:
        raise  # output piped into `head`: run_cli treats it as a normal end
    except (OSError, OutputError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"{PROG}: error: cannot write the results to {out or 'standard output'}: {reason}", file=sys.stderr)
        if out is None:  # the interpreter's final flush would fail again, with a traceback
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until exit
        return False
    return True


def _files(args: argparse.Namespace) -> int:
    from asc_edge.plumbing.atomic_io import check_output_path
    from asc_edge.plumbing.errors import AscEdgeError
    from asc_edge.runtime.files import classify_source, expand_inputs
    from asc_edge.runtime.formats import render

    sources, errors = expand_inputs(args.inputs)
    if args.out:
        check_output_path(args.out, [s for s in sources if s != "-"])
    for line in errors:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    model = _load_model(args)
    _check_hop(args.hop, model)
    results = []
    for source in sources:
        try:
            results.append(classify_source(model, source, args.hop, **(
                {} if args.min_duration is None else {"min_seconds": args.min_duration})))
        except AscEdgeError as exc:
            errors.append(str(exc))
            print(f"{PROG}: error: {exc}", file=sys.stderr)
    if results and not _write_output(render(results, model.labels, args.format or "table", args.top_k), args.out):
        return EXIT_SOME_FAILED
    if not results:
        return EXIT_BAD_INPUT
    return EXIT_SOME_FAILED if errors else 0


def _list_devices() -> int:
    from asc_edge.runtime.mic import input_devices

    devices = input_devices()
    if not devices:
        print(f"{PROG}: no input devices found", file=sys.stderr)
        return EXIT_BAD_INPUT
    for d in devices:
        print(f"{d['index']:>3}  {d['name']}  ({d['max_input_channels']} ch, {d['default_samplerate']:.0f} Hz)")
    return 0


def _mic(args: argparse.Namespace) -> int:
    from asc_edge.plumbing.atomic_io import OutputError, check_output_path
    from asc_edge.plumbing.errors import ConfigError
    from asc_edge.runtime.mic import Smoother, listen

    for path in (args.out, args.record):
        if path:
            check_output_path(path)
    if args.out and args.record and Path(args.out).absolute() == Path(args.record).absolute():
        raise OutputError(f"{args.out}: --out and --record name the same file")
    model = _load_model(args)
    _check_hop(args.hop, model)
    fmt = args.format or "live"
    if fmt not in ("live", "jsonl"):
        raise ConfigError(f"--mic writes live lines or --format jsonl, not {fmt}")
    # Appended, not replaced: a service restarted after a device loss keeps its earlier decisions.
    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 (closed below)

    def on_decision(d) -> None:
        if fmt == "jsonl":
            line = json.dumps({"time": round(time.time(), 3), "window": d.window, "start": round(d.start, 3),
                               "end": round(d.end, 3), "label": d.label, "confidence": round(d.confidence, 6),
                               "latency_ms": round(d.latency_ms, 2), "silence": d.silent,
                               "probabilities": {n: round(float(p), 6) for n, p in zip(model.labels, d.smoothed)}})
        else:
            label = "(silence)" if d.silent else d.label or "(uncertain)"
            line = (f"{time.strftime('%H:%M:%S')}  window {d.window:>4}  {d.start:7.1f}-{d.end:7.1f} s  "
                    f"{label:<18} {d.confidence:5.2f}  latency {d.latency_ms:6.1f} ms")
        try:
            print(line, file=out, flush=True)
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk mid-session: stop with one line, keep what was written
            raise OutputError(f"cannot write to {args.out or 'standard output'}: {exc.strerror or exc}") from exc

    def stop(signum, frame) -> None:  # systemd's stop (SIGTERM) ends like Ctrl-C: stream aborted, summary printed
        raise KeyboardInterrupt

    import signal

    signal.signal(signal.SIGTERM, stop)
    try:
        session = listen(model, on_decision, device=args.device, hop_seconds=args.hop or 1.0,
                         smoother=Smoother(args.smooth, args.smooth_windows, args.ema_alpha),
                         min_confidence=args.min_confidence, max_seconds=args.seconds, timeout=args.timeout,
                         block_size=args.block_size, capture_rate=args.capture_rate, record_path=args.record)
    except OutputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    finally:
        if out is not sys.stdout:
            out.close()
    latencies = sorted(session.latencies_ms)
    summary = (f"{PROG}: {session.decisions} decisions over {session.seconds:.1f} s from {session.device_name!r} "
               f"at {session.capture_rate} Hz; {session.overflows} input overflows")
    if latencies:
        summary += (f"; latency median {latencies[len(latencies) // 2]:.1f} ms, max {latencies[-1]:.1f} ms")
    print(summary + (" (stopped by Ctrl-C)" if session.interrupted else ""), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_devices:
        return _list_devices()
    if args.mic:
        if args.inputs:
            parser.error("give either --mic or input files, not both")
        return _mic(args)
    if not args.inputs:
        parser.error("give audio files, folders or - (stdin), or --mic")
    return _files(args)


entry_point = make_entry_point(main, PROG)

if __name__ == "__main__":
    entry_point()
