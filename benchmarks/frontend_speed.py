"""Frontend speed: milliseconds of CPU per 10 s of audio, batch and streaming, for every profile.

    python benchmarks/frontend_speed.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.profiles import PROFILES
from asc_edge.audio.resample import resample


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def _stream_all(frontend: LogMelFrontend, audio: np.ndarray, chunk: int) -> None:
    stream = frontend.stream()
    for i in range(0, audio.size, chunk):
        stream.push(audio[i:i + chunk])
    stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{'stage':<42} {'ms per 10 s of audio (median of ' + str(args.repeats) + ')':>40}")
    for name, config in PROFILES.items():
        audio = (0.1 * rng.standard_normal(10 * config.sample_rate)).astype(np.float32)
        frontend = LogMelFrontend(config)
        shape = frontend(audio).shape
        batch_ms = _median_ms(partial(frontend, audio), args.repeats)
        stream_ms = _median_ms(partial(_stream_all, frontend, audio, 1024), args.repeats)
        print(f"{'log-mel ' + name + ' batch ' + str(shape):<42} {batch_ms:>40.2f}")
        print(f"{'log-mel ' + name + ' streaming, 1024-sample chunks':<42} {stream_ms:>40.2f}")
    for source, target in ((48000, 44100), (44100, 16000), (48000, 16000)):
        audio = rng.standard_normal(10 * source)
        print(f"{f'resample {source} -> {target} Hz':<42} "
              f"{_median_ms(partial(resample, audio, source, target), args.repeats):>40.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
