"""Crafted sample rates: every rate a WAV header can hold is resampled in bounded memory or refused up front.

    python benchmarks/crafted_rates.py [--rates 1 7 1000 44101 47999 383999 384000 999983 2147483647]

For each rate, a valid 16-bit mono WAV of 2 s of scene-like audio whose header declares that rate (the
samples are the same; only the header changes) goes through ``asc-listen FILE --min-duration 0``. Prints the
exit code, peak RSS and CPU of the process (``wait4``), wall time, and the first line of stderr. The
supported range is 1 kHz - 384 kHz, and within it the resampling filter must fit 64 MiB
(``asc_edge.audio.resample.MAX_FILTER_BYTES``); the filter size is printed per rate for the packaged model's
16 kHz (before issue 15, 44,101 Hz asked for 5.3 GiB and 1 Hz, 999,983 Hz and 2^31-1 Hz ended in a
``MemoryError`` traceback).
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

from asc_edge.audio.resample import filter_bytes

DEFAULT_RATES = [1, 7, 999, 1000, 8000, 44100, 44101, 47999, 383999, 384000, 999983, 2147483647]


def crafted_wav(path: Path, rate: int, samples: int = 32000) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(samples) / 16000
    audio = 0.05 * rng.standard_normal(samples) + 0.2 * np.sin(2 * np.pi * 440 * t)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, min(2 * rate, 2**32 - 1), 2, 16) + b"data" + struct.pack("<I", len(pcm))
    path.write_bytes(header + pcm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=DEFAULT_RATES)
    parser.add_argument("--target", type=int, default=16000, help="model rate the filter size is shown for")
    args = parser.parse_args(argv)
    print("| header rate (Hz) | filter to 16 kHz (MiB) | exit | peak RSS (MB) | CPU (s) | wall (s) | stderr |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="crafted-rates-") as work:
        for rate in args.rates:
            path = Path(work) / f"rate{rate}.wav"
            crafted_wav(path, rate)
            start = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-m", "asc_edge.runtime.listen_cli", str(path), "--format",
                                      "csv", "--min-duration", "0"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            error = child.stderr.read().decode(errors="replace").strip().splitlines()
            child.stderr.close()
            child.returncode = os.waitstatus_to_exitcode(status)
            line = (error[0].replace(str(path), "FILE") if error else "").replace("|", "/")[:150]
            if len(error) > 1:
                line += f" (+{len(error) - 1} more lines)"
            size = filter_bytes(rate, args.target) / 2**20
            print(f"| {rate:,} | {size:,.1f} | {child.returncode} | {usage.ru_maxrss / 1024:.0f} | "
                  f"{usage.ru_utime + usage.ru_stime:.2f} | {wall:.2f} | {line} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
