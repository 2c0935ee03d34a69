"""Time the whole classification path (read + resample, features, invoke) for any inference engine.

Shared by ``asc-bench``'s workers (LiteRT and ONNX Runtime in ``asc_edge.bench.worker``, PyTorch in
``asc_edge.bench.torch_worker``), each run in its own process so cold start and peak RSS are its own.
"""

from __future__ import annotations

import resource
import time

import numpy as np

from asc_edge.audio.fft_floor import bare_fft
from asc_edge.audio.io import read_audio
from asc_edge.audio.windows import fit_to_window, window_starts
from asc_edge.plumbing.memory import keep_freed_memory


def time_path(load, wav: str, runs: int, started: float | None = None) -> dict:
    """``load()`` returns ``(frontend, window samples, sample rate, infer)``; returns the timings.

    ``started``: ``time.perf_counter()`` taken first thing in the process, so the cold start includes
    importing numpy, the frontend and the interpreter, not only building it."""
    start = time.perf_counter() if started is None else started
    keep_freed_memory()  # every engine gets the same allocator settings as the runtime
    frontend, window, rate, infer = load()
    cold_start = time.perf_counter() - start
    start = time.perf_counter()
    clip = read_audio(wav, target_rate=rate)
    read_s = time.perf_counter() - start
    starts = window_starts(clip.samples.size, window, window)
    # a clip shorter than the window (asc-bench --seconds 1 with a 5 s model) is looped, as asc-listen does
    windows = [fit_to_window(clip.samples[s:s + window], window) for s in starts]
    floor = bare_fft(frontend.config)  # what the features cost at the least: the FFT of the same frames
    infer(frontend(windows[0]))  # warm-up: first-call allocations are not steady-state latency
    floor(windows[0])
    features_ms, invoke_ms, floor_ms = [], [], []
    for i in range(runs):
        t0 = time.perf_counter()
        features = frontend(windows[i % len(windows)])
        t1 = time.perf_counter()
        infer(features)
        t2 = time.perf_counter()
        floor(windows[i % len(windows)])
        t3 = time.perf_counter()
        features_ms.append(1000 * (t1 - t0))
        invoke_ms.append(1000 * (t2 - t1))
        floor_ms.append(1000 * (t3 - t2))
    per_window = np.add(features_ms, invoke_ms)
    path_s = read_s + len(windows) * (np.median(features_ms) + np.median(invoke_ms)) / 1000
    return {
        "cold_start_s": cold_start, "read_resample_ms": 1000 * read_s, "audio_seconds": clip.seconds,
        "source_rate": clip.source_rate, "windows_in_file": len(windows), "runs": runs,
        "features_ms_p50": float(np.median(features_ms)), "invoke_ms_p50": float(np.median(invoke_ms)),
        "fft_floor_ms_p50": float(np.median(floor_ms)),
        "window_ms_p50": float(np.percentile(per_window, 50)), "window_ms_p90": float(np.percentile(per_window, 90)),
        "window_ms_p99": float(np.percentile(per_window, 99)), "real_time_factor": path_s / clip.seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
