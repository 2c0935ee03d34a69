"""Frontend and resampler speed: before (the pre-issue-14 code) and now, in the same run, per 10 s of audio.

    python benchmarks/frontend_speed.py [--repeats 20]

For each profile: the frontend as it was (``frontend_before.py``, float64 FFT over all n_fft points and a
dense mel product), the frontend now, and the floor: the bare float32 FFT of the same frames (only the
windowed samples, zero-padded to n_fft; ``asc_edge.audio.fft_floor``, which asc-bench times too).
Measurements are interleaved round by round and count this process's CPU time (the machine is shared: waiting
for a core does not count; a burst of load hits every method alike), median reported. Targets (issue 14):
``dcase`` at least 8x faster than before and within 1.5x of the bare FFT. Then the resampler against
``scipy.signal.resample_poly`` (the reference it matches to 1e-6) and ``soxr`` (a different filter).
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from frontend_before import BeforeLogMelFrontend  # noqa: E402

from asc_edge.audio.fft_floor import bare_fft  # noqa: E402
from asc_edge.audio.frontend import LogMelFrontend  # noqa: E402
from asc_edge.audio.profiles import PROFILES  # noqa: E402
from asc_edge.audio.resample import StreamingResampler, resample  # noqa: E402
from asc_edge.audio.stream import WindowStream  # noqa: E402
from asc_edge.audio.windowed import WindowedLogMel  # noqa: E402

WINDOW_S, HOP_S = 5.0, 0.5  # the windowed mode's case: asc-listen --hop 0.5 on a 5 s model window


def _interleaved_ms(functions: dict, repeats: int) -> dict:
    """Median CPU ms of each function (this process's CPU time: waiting for a core shared with other work does
    not count), measured round-robin."""
    for fn in functions.values():
        fn()  # warm-up
    times: dict = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: 1000 * float(np.median(t)) for name, t in times.items()}


def _windowed_all(frontend: LogMelFrontend, audio: np.ndarray, chunk: int) -> None:
    """The runtime's streaming path without the model: ``WINDOW_S`` windows every ``HOP_S``, their log-mels
    from the windowed mode (frames shared between overlapping windows), the audio arriving in chunks."""
    rate = frontend.config.sample_rate
    window, hop = round(WINDOW_S * rate), round(HOP_S * rate)
    stream, windowed = WindowStream(rate, rate, window, hop), WindowedLogMel(frontend, window, hop)
    for i in range(0, audio.size, chunk):
        for index, samples in stream.push(audio[i:i + chunk]):
            windowed.features(stream.start_of(index), samples)
    for index, samples in stream.finish():
        windowed.features(stream.start_of(index), samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    from asc_edge.plumbing.memory import keep_freed_memory

    keep_freed_memory()  # the runtime's allocator settings (SceneModel and asc-bench set them too)
    rng = np.random.default_rng(0)
    print(f"{'stage':<52} {'CPU ms per 10 s of audio (median of ' + str(args.repeats) + ')':>40}")
    verdicts = []
    for name, config in PROFILES.items():
        audio = (0.1 * rng.standard_normal(10 * config.sample_rate)).astype(np.float32)
        before, now = BeforeLogMelFrontend(config), LogMelFrontend(config)
        shape = now(audio).shape
        diff = float(np.max(np.abs(now(audio) - before(audio))))
        ms = _interleaved_ms({"before": partial(before, audio), "now": partial(now, audio),
                              "fft": partial(bare_fft(config), audio),
                              "windowed": partial(_windowed_all, now, audio, 1024)}, args.repeats)
        print(f"{'log-mel ' + name + ' batch ' + str(shape) + ' before':<52} {ms['before']:>40.2f}")
        print(f"{'log-mel ' + name + ' batch ' + str(shape):<52} {ms['now']:>40.2f}")
        print(f"{'  bare float32 FFT of the same frames (floor)':<52} {ms['fft']:>40.2f}")
        print(f"{'log-mel ' + name + f' windowed ({WINDOW_S:g} s, hop {HOP_S:g} s)':<52} {ms['windowed']:>40.2f}")
        print(f"{'  max |now - before| (log-mel)':<52} {diff:>40.2e}")
        speedup, over_floor = ms["before"] / ms["now"], ms["now"] / ms["fft"]
        print(f"{'  speed-up / cost over the bare FFT':<52} {f'{speedup:.1f}x / {over_floor:.2f}x':>40}")
        if name == "dcase":
            verdicts.append(f"dcase frontend {speedup:.1f}x faster than before (target >= 8x): "
                            f"{'met' if speedup >= 8 else 'NOT met'}")
            verdicts.append(f"dcase frontend {over_floor:.2f}x the bare FFT (target <= 1.5x): "
                            f"{'met' if over_floor <= 1.5 else 'NOT met'}")
    import scipy.signal

    try:
        import soxr
    except ImportError:
        soxr = None
    for source, target in ((48000, 44100), (44100, 16000), (48000, 16000)):
        audio = rng.standard_normal(10 * source)
        reference = scipy.signal.resample_poly(audio, target, source)
        ours = resample(audio, source, target)
        functions = {"ours": partial(resample, audio, source, target),
                     "scipy": partial(scipy.signal.resample_poly, audio, target, source)}
        if soxr is not None:
            functions["soxr"] = partial(soxr.resample, audio, source, target)
        ms = _interleaved_ms(functions, args.repeats)
        print(f"{f'resample {source} -> {target} Hz':<52} {ms['ours']:>40.2f}")
        print(f"{'  scipy.signal.resample_poly':<52} {ms['scipy']:>40.2f}")
        print(f"{'  max |ours - scipy|':<52} {float(np.max(np.abs(ours - reference))):>40.2e}")
        if soxr is not None:
            other = soxr.resample(audio, source, target)
            n = min(other.size, reference.size)
            print(f"{'  soxr (HQ)':<52} {ms['soxr']:>40.2f}")
            print(f"{'  max |soxr - scipy| (another filter and delay)':<52} "
                  f"{float(np.max(np.abs(other[:n] - reference[:n]))):>40.2e}")
        stream = StreamingResampler(source, target)
        streamed = np.concatenate([stream.push(audio[i:i + 1024]) for i in range(0, audio.size, 1024)]
                                  + [stream.flush()])
        print(f"{'  ours streamed in 1024-sample chunks == batch':<52} {str(np.array_equal(streamed, ours)):>40}")
        if source in (44100, 48000) and target == 16000:
            verdicts.append(f"resample {source} -> 16000 Hz {ms['scipy'] / ms['ours']:.2f}x the speed of "
                            f"resample_poly (target >= 1x): {'met' if ms['ours'] <= ms['scipy'] else 'NOT met'}")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
