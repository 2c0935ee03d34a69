"""Peak RSS and time of ``asc-listen`` against the input's length: 1 minute, 1 hour, 24 hours.

    python benchmarks/memory_by_length.py [--lengths 60 3600 86400] [--rate 16000] [--format csv]
                                          [--before-src DIR] [--before-lengths 60 600]

The input is generated, never stored: a child process writes a 16-bit mono WAV (the header declares the
exact length; a 24 h stream at 16 kHz is 2.8 GB) to a pipe into ``asc-listen -``, so the 24 h case needs no
disk. Scene-like audio (noise and modulated tones) is generated once per minute-long period and repeated.
Each length also runs from a file (written to a temporary folder) when it is at most ``--file-limit``
seconds. Peak RSS and CPU time come from ``wait4`` on the asc-listen process (its own, not the
generator's); wall time is the elapsed time. With ``--before-src`` (``src`` of an older checkout, e.g.
``git archive HEAD src | tar -x -C /tmp/head``) the old code is measured on ``--before-lengths`` from files.
Target (issue 24): 24 h within the RSS of 1 minute + 5 MB (results stream out; the summary keeps running
totals).
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PERIOD_S = 60


def _period(rate: int) -> bytes:
    rng = np.random.default_rng(0)
    t = np.arange(PERIOD_S * rate) / rate
    audio = 0.05 * rng.standard_normal(t.size) + 0.15 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * t / 60))
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def wav_header(n_samples: int, rate: int) -> bytes:
    data = 2 * n_samples
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16) + b"data" + struct.pack("<I", data))


def generate(seconds: int, rate: int, out) -> None:
    """Write the WAV stream to ``out`` (a binary file)."""
    period = _period(rate)
    remaining = 2 * seconds * rate
    out.write(wav_header(seconds * rate, rate))
    while remaining > 0:
        piece = period[:remaining]
        out.write(piece)
        remaining -= len(piece)
    out.flush()


def _listen(args: list[str], stdin, src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "asc_edge.runtime.listen_cli", *args], stdin=stdin,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    error = child.stderr.read().decode(errors="replace").strip()
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"asc-listen {' '.join(args)} failed ({child.returncode}): {error[-300:]}")
    return {"rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall}


def via_stdin(seconds: int, rate: int, fmt: str) -> dict:
    generator = subprocess.Popen([sys.executable, __file__, "--generate", str(seconds), "--rate", str(rate)],
                                 stdout=subprocess.PIPE)
    try:
        return _listen(["-", "--format", fmt], generator.stdout, None)
    finally:
        generator.stdout.close()
        generator.wait()


def via_file(seconds: int, rate: int, fmt: str, folder: Path, src: str | None = None) -> dict:
    path = folder / f"{seconds}s.wav"
    if not path.exists():
        with open(path, "wb") as out:
            generate(seconds, rate, out)
    return _listen([str(path), "--format", fmt], subprocess.DEVNULL, src)


def _label(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lengths", type=int, nargs="+", default=[60, 3600, 86400], help="seconds")
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--format", default="csv", choices=("table", "csv", "jsonl"))
    parser.add_argument("--file-limit", type=int, default=3600, help="longest input also run from a file (s)")
    parser.add_argument("--before-src", default=None)
    parser.add_argument("--before-lengths", type=int, nargs="+", default=[60, 600])
    args = parser.parse_args(argv)
    if args.generate is not None:
        generate(args.generate, args.rate, sys.stdout.buffer)
        return 0
    print(f"asc-listen (packaged model), {args.rate} Hz 16-bit mono input, --format {args.format}")
    print("| input | length | peak RSS (MB) | CPU (s) | wall (s) |")
    print("|---|---|---|---|---|")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="memory-by-length-") as work:
        for seconds in args.lengths:
            r = rows[seconds] = via_stdin(seconds, args.rate, args.format)
            print(f"| stdin (generated on the fly) | {_label(seconds)} | {r['rss_mb']:.1f} | {r['cpu_s']:.1f} | "
                  f"{r['wall_s']:.1f} |", flush=True)
            if seconds <= args.file_limit:
                r = via_file(seconds, args.rate, args.format, Path(work))
                print(f"| file | {_label(seconds)} | {r['rss_mb']:.1f} | {r['cpu_s']:.1f} | {r['wall_s']:.1f} |",
                      flush=True)
                (Path(work) / f"{seconds}s.wav").unlink()
        if args.before_src:
            for seconds in args.before_lengths:
                r = via_file(seconds, args.rate, args.format, Path(work), args.before_src)
                print(f"| file, before ({args.before_src}) | {_label(seconds)} | {r['rss_mb']:.1f} | "
                      f"{r['cpu_s']:.1f} | {r['wall_s']:.1f} |", flush=True)
    shortest, longest = min(rows), max(rows)
    growth = rows[longest]["rss_mb"] - rows[shortest]["rss_mb"]
    print(f"{_label(longest)} vs {_label(shortest)}: {growth:+.1f} MB peak RSS (target <= +5 MB): "
          f"{'met' if growth <= 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
