"""Run under emulated aarch64 by test_arm64_dataflow.py: bit-exactness that rests on SIMD and BLAS behaviour.

pocketfft rounds differently in its SIMD and scalar paths on aarch64 (fused multiply-adds), and OpenBLAS
results can depend on a row's place in a product; the frontend (``FFT_LANES``) and the resampler (``SLAB``)
are built so that neither matters. Prints ``ALL True`` when the windowed mode (windows pushed in chunks, shared
frames) and batch agree exactly.
"""

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.profiles import PROFILES
from asc_edge.audio.resample import StreamingResampler, resample
from asc_edge.audio.stream import WindowStream
from asc_edge.audio.windowed import WindowedLogMel
from asc_edge.audio.windows import window_starts

rng = np.random.default_rng(0)
ok = True
for name, cfg in PROFILES.items():
    fe = LogMelFrontend(cfg)
    x = (0.1 * rng.standard_normal(int(cfg.sample_rate * 0.6))).astype(np.float32)
    whole = fe(x)
    first, last = fe.inside(x.size)
    ok &= np.array_equal(fe.inside_frames(x, first, last), whole[:, first:last])
    window, hop = 8 * cfg.hop_length, 2 * cfg.hop_length  # windows on the frame grid, pushed in chunks
    lo, hi = fe.inside(window)
    for chunk in (1, 333, 4096):
        stream, windowed = WindowStream(cfg.sample_rate, cfg.sample_rate, window, hop), WindowedLogMel(fe, window, hop)
        ready = [w for i in range(0, x.size, chunk) for w in stream.push(x[i:i + chunk])] + stream.finish()
        for index, samples in ready:
            start = stream.start_of(index)
            features = windowed.features(start, samples)
            ok &= np.array_equal(features, fe(samples))
            if start % cfg.hop_length == 0:
                base = start // cfg.hop_length
                ok &= np.array_equal(features[:, lo:hi], whole[:, base + lo:base + hi])
    window, hop = 20 * cfg.hop_length + 100, 3 * cfg.hop_length
    y = (0.1 * rng.standard_normal(window * 3)).astype(np.float32)
    shared = WindowedLogMel(fe, window, hop)
    for start in window_starts(y.size, window, hop):
        ok &= np.array_equal(shared.features(start, y[start:start + window]), fe(y[start:start + window]))
    print(name, "frontend windowed/shared == batch:", ok)
for a, b in ((44100, 16000), (48000, 16000), (16000, 44100)):
    z = rng.standard_normal(a // 4)
    for chunk in (1, 100, 5000):
        st = StreamingResampler(a, b)
        got = np.concatenate([st.push(z[i:i + chunk]) for i in range(0, z.size, chunk)] + [st.flush()])
        ok &= np.array_equal(got, resample(z, a, b))
    print(a, b, "resampler stream == batch:", ok)
print("ALL", ok)
