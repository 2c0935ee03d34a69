"""Run under emulated aarch64 by test_arm64_dataflow.py: bit-exactness that rests on SIMD and BLAS behaviour.

pocketfft rounds differently in its SIMD and scalar paths on aarch64 (fused multiply-adds), and OpenBLAS
results can depend on a row's place in a product; the frontend (``FFT_LANES``) and the resampler (``SLAB``)
are built so that neither matters. Prints ``ALL True`` when streaming, shared frames and batch agree exactly.
"""

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.profiles import PROFILES
from asc_edge.audio.resample import StreamingResampler, resample
from asc_edge.audio.windows import window_starts
from asc_edge.runtime.stream import SharedFrames

rng = np.random.default_rng(0)
ok = True
for name, cfg in PROFILES.items():
    fe = LogMelFrontend(cfg)
    x = (0.1 * rng.standard_normal(int(cfg.sample_rate * 0.6))).astype(np.float32)
    for chunk in (1, 333, 4096):
        s = fe.stream()
        parts = [s.push(x[i:i + chunk]) for i in range(0, x.size, chunk)] + [s.flush()]
        ok &= np.array_equal(np.concatenate(parts, axis=1), fe(x))
    window, hop = 20 * cfg.hop_length + 100, 3 * cfg.hop_length
    y = (0.1 * rng.standard_normal(window * 3)).astype(np.float32)
    shared = SharedFrames(fe, window, hop)
    for start in window_starts(y.size, window, hop):
        ok &= np.array_equal(shared.features(start, y[start:start + window]), fe(y[start:start + window]))
    print(name, "frontend stream/shared == batch:", ok)
for a, b in ((44100, 16000), (48000, 16000), (16000, 44100)):
    z = rng.standard_normal(a // 4)
    for chunk in (1, 100, 5000):
        st = StreamingResampler(a, b)
        got = np.concatenate([st.push(z[i:i + chunk]) for i in range(0, z.size, chunk)] + [st.flush()])
        ok &= np.array_equal(got, resample(z, a, b))
    print(a, b, "resampler stream == batch:", ok)
print("ALL", ok)
