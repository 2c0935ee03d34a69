"""Transient and short sound events placed at random (Poisson) times in a soundscape."""

from __future__ import annotations

import numpy as np

from asc_edge.data.synth.dsp import apply_response, highpass_db, log_bump_db, lowpass_db, rms


def _click(sr: int, band_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Footstep, rattle or rail joint: 5-40 ms band-limited decaying noise."""
    n = int(sr * rng.uniform(0.005, 0.04))
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.25 * n))
    return apply_response(burst, sr, lambda f: log_bump_db(f, band_hz, 18.0, 0.7) - 18.0)


def _chirp(sr: int, band_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Bird-like call: 40-200 ms frequency sweep, repeated 1-4 times."""
    calls = []
    for _ in range(rng.integers(1, 5)):
        n = int(sr * rng.uniform(0.04, 0.2))
        t = np.arange(n) / sr
        f_start = band_hz * rng.uniform(0.7, 1.3)
        f_end = f_start * rng.uniform(0.6, 1.6)
        freq = np.minimum(np.linspace(f_start, f_end, n), 0.45 * sr)
        calls.append(np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.sin(np.pi * t / t[-1]) ** 2)
        calls.append(np.zeros(int(sr * rng.uniform(0.03, 0.12))))
    return np.concatenate(calls)


def _chime(sr: int, band_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Announcement chime, bell or horn: two or three decaying tones, 0.3-0.8 s each."""
    notes = []
    for _ in range(rng.integers(2, 4)):
        n = int(sr * rng.uniform(0.3, 0.8))
        t = np.arange(n) / sr
        f = min(band_hz * rng.choice([1.0, 1.25, 1.5, 0.8]), 0.45 * sr)
        tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * min(2 * f, 0.45 * sr) * t)
        notes.append(tone * np.exp(-t / rng.uniform(0.1, 0.4)))
    return np.concatenate(notes)


def _squeal(sr: int, band_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Brake or wheel squeal: a 0.4-1.5 s high tone with slow frequency wobble."""
    n = int(sr * rng.uniform(0.4, 1.5))
    t = np.arange(n) / sr
    freq = np.minimum(band_hz * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(2, 8) * t)), 0.45 * sr)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.sin(np.pi * t / t[-1])


def _pass(sr: int, band_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Vehicle or train passing by: 1.5-5 s swelling low-passed noise."""
    n = int(sr * rng.uniform(1.5, 5.0))
    t = np.linspace(-1, 1, n)
    swell = np.exp(-0.5 * (t / rng.uniform(0.25, 0.5)) ** 2)
    body = apply_response(rng.standard_normal(n), sr,
                          lambda f: lowpass_db(f, band_hz, 2) + highpass_db(f, 30.0, 2))
    return body / rms(body) * swell


EVENT_KINDS = {"click": _click, "chirp": _chirp, "chime": _chime, "squeal": _squeal, "pass": _pass}


def add_events(out: np.ndarray, sr: int, kind: str, rate_per_s: float, band_hz: float, gain: float,
               rng: np.random.Generator) -> None:
    """Mix Poisson-timed events of one kind into ``out`` (in place), each at ``gain`` x unit RMS."""
    make = EVENT_KINDS[kind]
    n_events = rng.poisson(rate_per_s * out.size / sr)
    for _ in range(n_events):
        event = make(sr, band_hz * rng.uniform(0.85, 1.15), rng)
        event = event / rms(event) * gain * rng.uniform(0.5, 1.5)
        start = int(rng.integers(-event.size // 2, out.size))
        lo, hi = max(start, 0), min(start + event.size, out.size)
        if hi > lo:
            out[lo:hi] += event[lo - start:hi - start]
