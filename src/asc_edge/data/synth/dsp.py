"""Small signal-building blocks for the procedural soundscapes and device chains (numpy only)."""

from __future__ import annotations

import numpy as np


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)) + 1e-20))


def db_to_gain(db: float | np.ndarray) -> float | np.ndarray:
    return 10.0 ** (np.asarray(db) / 20.0)


def apply_response(signal: np.ndarray, sample_rate: int, response_db) -> np.ndarray:
    """Zero-phase filtering by a magnitude response ``response_db(freqs_hz) -> dB`` in the FFT domain."""
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(signal.size, 1.0 / sample_rate)
    return np.fft.irfft(spectrum * db_to_gain(response_db(freqs)), n=signal.size)


def shaped_noise(n: int, sample_rate: int, response_db, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise coloured by ``response_db``, scaled to unit RMS."""
    noise = apply_response(rng.standard_normal(n), sample_rate, response_db)
    return noise / rms(noise)


def log_bump_db(freqs: np.ndarray, centre_hz: float, gain_db: float, octaves: float) -> np.ndarray:
    """A resonance: Gaussian in log-frequency, ``octaves`` standard deviation."""
    f = np.maximum(freqs, 1.0)
    return gain_db * np.exp(-0.5 * (np.log2(f / centre_hz) / octaves) ** 2)


def tilt_db(freqs: np.ndarray, db_per_octave: float, pivot_hz: float = 1000.0) -> np.ndarray:
    return db_per_octave * np.log2(np.maximum(freqs, 20.0) / pivot_hz)


def highpass_db(freqs: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    f = np.maximum(freqs, 1e-3)
    return -10.0 * np.log10(1.0 + (cutoff_hz / f) ** (2 * order))


def lowpass_db(freqs: np.ndarray, cutoff_hz: float, order: int = 4) -> np.ndarray:
    return -10.0 * np.log10(1.0 + (freqs / cutoff_hz) ** (2 * order))


def slow_envelope(n: int, sample_rate: int, rate_hz: float, depth: float, rng: np.random.Generator) -> np.ndarray:
    """Random smooth loudness fluctuation around 1 with about ``rate_hz`` changes per second."""
    n_points = max(2, int(np.ceil(n / sample_rate * rate_hz)) + 2)
    points = rng.uniform(-1.0, 1.0, n_points)
    curve = np.interp(np.linspace(0, n_points - 1, n), np.arange(n_points), points)
    return np.maximum(1.0 + depth * curve, 0.05)


def harmonic_tone(n: int, sample_rate: int, f0: float, n_harmonics: int, rolloff_db: float,
                  vibrato: float, rng: np.random.Generator) -> np.ndarray:
    """A harmonic source (engine, motor whine, hum) with slow pitch wander; unit RMS."""
    t = np.arange(n) / sample_rate
    wander = 1.0 + vibrato * np.interp(t, np.linspace(0, t[-1] if n > 1 else 1, 6), rng.uniform(-1, 1, 6))
    phase = 2 * np.pi * np.cumsum(f0 * wander) / sample_rate
    out = np.zeros(n)
    nyquist = sample_rate / 2
    for k in range(1, n_harmonics + 1):
        if k * f0 * (1 + vibrato) >= nyquist:
            break
        out += db_to_gain(-rolloff_db * (k - 1)) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return out / rms(out)
