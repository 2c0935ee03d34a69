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
)

PROG = "asc-listen"
EXIT_SOME_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    from asc_edge.runtime.backend import add_interpreter_arguments
    from asc_edge.runtime.formats import FORMATS
    from asc_edge.runtime.mqtt.options import add_mqtt_arguments
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
    add_interpreter_arguments(parser)
    parser.add_argument("--hop", type=positive, default=None,
                        help="seconds between window starts, from one frontend hop up to a day (default: files "
                             "the window length, --mic 1); rounded to whole frontend hops so overlapping windows "
                             "share their frames (the hop used is printed when it differs); longer than the "
                             "window: duty cycling, the audio between windows is read past, not classified")
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
    parser.add_argument("--min-confidence", type=fraction, default=0.0,
                        help="a window (or file) whose top probability (smoothed, with --smooth) is under this is "
                             "reported as 'unknown' in every mode and format, and counted so in the file summary "
                             "(default: 0)")
    mic = parser.add_argument_group("microphone")
    mic.add_argument("--mic", action="store_true", help="classify a live input device")
    mic.add_argument("--device", default=None, help="input device index or name (default: the system default)")
    mic.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    mic.add_argument("--capture-rate", type=positive_int, default=None,
                     help="capture rate in Hz (default: the device's native rate; resampled to the model's)")
    mic.add_argument("--block-size", type=bounded(int, minimum=0, maximum=1 << 20), default=0,
                     help="frames per audio callback (default: 0, any)")
    mic.add_argument("--smooth", default="none", choices=("none", "mean", "ema"),
                     help="smooth probabilities over windows, --mic only (default: none)")
    mic.add_argument("--smooth-windows", type=bounded(int, minimum=1, maximum=1000), default=3,
                     help="windows in the moving average")
    mic.add_argument("--ema-alpha", type=fraction, default=0.5, help="weight of the newest window in the EMA")
    mic.add_argument("--seconds", type=positive, default=None, help="stop after this much audio (default: Ctrl-C)")
    mic.add_argument("--timeout", type=bounded(float, above=0.0, maximum=3600.0), default=5.0,
                     help="give up when the device delivers nothing for this long (default: 5 s)")
    mic.add_argument("--record", default=None, help="also save the captured audio (WAV at the capture rate)")
    add_mqtt_arguments(parser)
    return parser


def _load_model(args: argparse.Namespace):
    from asc_edge.runtime.model import SceneModel
    from asc_edge.runtime.packaged import default_model_path

    if args.model:
        return SceneModel(args.model, backend=args.backend, threads=args.threads)
    with default_model_path() as path:
        return SceneModel(path, backend=args.backend, threads=args.threads)


MAX_HOP_S = 86_400.0  # duty cycling: one window a day at most


def _grid_hop(hop: float | None, model, announce: bool = True) -> float | None:
    """``--hop`` checked and rounded to whole frontend hops (so overlapping windows share their frames); the
    hop used is printed once when it differs. A hop below one frontend hop only repeats windows (1e-9 would
    ask for billions): refused with the range this model allows."""
    if hop is None:
        return None
    from asc_edge.plumbing.errors import ConfigError

    frame, rate = model.frontend_config.hop_length, model.frontend_config.sample_rate
    shortest = frame / rate
    if not shortest <= hop <= MAX_HOP_S:
        raise ConfigError(f"--hop {hop:g}: must be between one frontend hop ({shortest:g} s) and {MAX_HOP_S:g} s "
                          f"(a window is {model.window.seconds:g} s) for this model")
    frames = max(1, round(hop * rate / frame))
    used = frames * frame / rate
    if announce and frames * frame != round(hop * rate):
        window = model.window.samples
        note = ("overlapping windows share frames" if frames * frame < window else
                "windows back to back" if frames * frame == window else "duty cycling: gaps between windows")
        print(f"{PROG}: --hop {hop:g} -> {used:g} s ({frames} frontend hops of {frame} samples: {note}); "
              f"reported times are exact", file=sys.stderr)
    return used


class _OutputFailedError(Exception):
    """Writing the results failed (full disk, closed standard output): one line and exit 1."""


class _NothingWrittenError(Exception):
    """No source gave a result: the --out file is not created."""


def _files(args: argparse.Namespace) -> int:
    from asc_edge.plumbing.atomic_io import OutputError, check_output_path, write_atomic
    from asc_edge.plumbing.errors import AscEdgeError, ConfigError
    from asc_edge.runtime.files import UNKNOWN_LABEL, classify_source, expand_inputs
    from asc_edge.runtime.formats import ResultWriter
    from asc_edge.runtime.mqtt.options import check_mqtt_arguments, open_publisher

    sources, errors = expand_inputs(args.inputs)
    if args.out:
        check_output_path(args.out, [s for s in sources if s != "-"])
    if args.smooth != "none":
        raise ConfigError(f"--smooth {args.smooth} smooths a live stream (--mic); a file's windows are reported "
                          f"one by one and its summary is their mean: leave --smooth out")
    check_mqtt_arguments(args)
    for line in errors:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    model = _load_model(args)
    hop = _grid_hop(args.hop, model)
    writer = ResultWriter(model.labels, args.format or "table", args.top_k, len(sources) > 1, args.min_confidence)
    publisher = open_publisher(args, model.path.name, PROG)
    publish = _decision_sink(publisher, model, args.top_k)
    extra = {} if args.min_duration is None else {"min_seconds": args.min_duration}
    succeeded = 0

    def run(write) -> None:
        nonlocal succeeded
        started = False

        def emit(text: str) -> None:  # the header goes out with the first result: none for a failed lone source
            nonlocal started
            if text and not started:
                started = True
                write(writer.header())
            write(text)

        def on_window(result, window) -> None:
            emit(writer.window(result, result.window_count - 1, window))
            if publish is not None:
                publish(result.source, window.start, window.end, UNKNOWN_LABEL if window.unknown else None,
                        window.probabilities, window.level, window.tail)

        for source in sources:
            try:
                result = classify_source(model, source, hop, on_window=on_window, keep_windows=writer.keeps_windows,
                                         min_confidence=args.min_confidence, **extra)
            except AscEdgeError as exc:
                errors.append(str(exc))
                print(f"{PROG}: error: {exc}", file=sys.stderr)
                continue
            emit(writer.file(result))
            succeeded += 1
        if not succeeded:
            raise _NothingWrittenError

    with _stopped_by_sigterm(publisher is not None):
        try:
            if args.out is None:
                run(_stdout_emitter())
            else:
                try:
                    write_atomic(args.out, lambda handle: run(_handle_emitter(handle, args.out)))
                except OSError as exc:  # the buffered last write, the flush or the fsync failed
                    raise _OutputFailedError(exc.strerror or str(exc)) from None
        except _NothingWrittenError:
            return EXIT_BAD_INPUT
        except (_OutputFailedError, OutputError) as exc:
            _output_failed(str(exc), args.out)
            return EXIT_SOME_FAILED
        finally:
            if publisher is not None:
                publisher.close()
    return EXIT_SOME_FAILED if errors else 0


def _stdout_emitter():
    def emit(text: str) -> None:
        if not text:
            return
        try:
            sys.stdout.write(text)
            sys.stdout.flush()  # as made: a service's log (or a pipe) sees each decision at once
        except BrokenPipeError:
            raise  # output piped into `head`: run_cli treats it as a normal end
        except OSError as exc:
            raise _OutputFailedError(exc.strerror or str(exc)) from None
    return emit


def _handle_emitter(handle, out: str):
    def emit(text: str) -> None:
        try:
            handle.write(text.encode("utf-8"))
        except OSError as exc:
            raise _OutputFailedError(exc.strerror or str(exc)) from None
    return emit


def _output_failed(reason: str, out: str | None) -> None:
    """One line; for standard output, point it at /dev/null so the interpreter's final flush cannot fail again
    with a traceback."""
    print(f"{PROG}: error: cannot write the results to {out or 'standard output'}: {reason}", file=sys.stderr)
    if out is None:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until exit


class _stopped_by_sigterm:  # noqa: N801 - used as a context manager, reads as one
    """systemd's stop (SIGTERM) ends like Ctrl-C, so ``finally`` blocks (the MQTT flush) run."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def __enter__(self) -> None:
        import signal

        if self.active:
            self._previous = signal.signal(signal.SIGTERM, _raise_interrupt)

    def __exit__(self, *exc) -> None:
        import signal

        if self.active:
            signal.signal(signal.SIGTERM, self._previous)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _decision_sink(publisher, model, top_k: int):
    """``publish(source, start, end, label or None for the top one, probabilities, level, tail)``, or None."""
    if publisher is None:
        return None
    from asc_edge.runtime.mqtt.sink import DecisionSink

    sink = DecisionSink(publisher, model.labels, top_k, model.card.file_sha256)

    def publish(source, start, end, label, probabilities, level, tail=False) -> None:
        sink(source, start, end, label or model.labels[int(probabilities.argmax())], probabilities, level, tail)
    return publish


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
    from asc_edge.runtime.files import UNKNOWN_LABEL
    from asc_edge.runtime.mic import Smoother, listen
    from asc_edge.runtime.mqtt.options import check_mqtt_arguments, open_publisher

    for path in (args.out, args.record):
        if path:
            check_output_path(path)
    if args.out and args.record and Path(args.out).absolute() == Path(args.record).absolute():
        raise OutputError(f"{args.out}: --out and --record name the same file")
    fmt = args.format or "live"
    if fmt not in ("live", "jsonl"):
        raise ConfigError(f"--mic writes live lines or --format jsonl, not {fmt}")
    check_mqtt_arguments(args)
    model = _load_model(args)
    # the default (1 s) on the grid too, silently: the user asked for nothing in particular
    hop = _grid_hop(args.hop if args.hop is not None else 1.0, model, announce=args.hop is not None)
    publisher = open_publisher(args, model.path.name, PROG)
    publish = _decision_sink(publisher, model, args.top_k)
    # Appended, not replaced: a service restarted after a device loss keeps its earlier decisions.
    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 (closed below)

    def on_decision(d) -> None:
        if fmt == "jsonl":
            line = json.dumps({"time": round(time.time(), 3), "window": d.window, "start": round(d.start, 3),
                               "end": round(d.end, 3), "label": None if d.silent else d.label or UNKNOWN_LABEL,
                               "confidence": round(d.confidence, 6),
                               "latency_ms": round(d.latency_ms, 2), "silence": d.silent,
                               "probabilities": {n: round(float(p), 6) for n, p in zip(model.labels, d.smoothed)}})
        else:
            label = "(silence)" if d.silent else d.label or UNKNOWN_LABEL
            line = (f"{time.strftime('%H:%M:%S')}  window {d.window:>4}  {d.start:7.1f}-{d.end:7.1f} s  "
                    f"{label:<18} {d.confidence:5.2f}  latency {d.latency_ms:6.1f} ms")
        try:
            print(line, file=out, flush=True)
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk mid-session: stop with one line, keep what was written
            raise OutputError(f"cannot write to {args.out or 'standard output'}: {exc.strerror or exc}") from exc
        if publish is not None:
            publish("mic", d.start, d.end, "silence" if d.silent else d.label or UNKNOWN_LABEL, d.smoothed, d.level)

    def stop(signum, frame) -> None:  # systemd's stop (SIGTERM) ends like Ctrl-C: stream aborted, summary printed
        raise KeyboardInterrupt

    import signal

    signal.signal(signal.SIGTERM, stop)
    try:
        session = listen(model, on_decision, device=args.device, hop_seconds=hop,
                         smoother=Smoother(args.smooth, args.smooth_windows, args.ema_alpha),
                         min_confidence=args.min_confidence, max_seconds=args.seconds, timeout=args.timeout,
                         block_size=args.block_size, capture_rate=args.capture_rate, record_path=args.record)
    except OutputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    finally:
        if out is not sys.stdout:
            out.close()
        if publisher is not None:
            publisher.close()
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
