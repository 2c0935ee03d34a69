"""Recording chains of the nine devices. ``a`` is the reference; the others colour, limit and distort.

Each chain: magnitude response (tilt, resonances, band limits), mild soft-clipping non-linearity, gain,
and a white noise floor. The chains are fixed properties of the "hardware", independent of ``--seed``.
s4..s6 appear only in the evaluate fold, so they test generalisation to unseen devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asc_edge.data.synth.dsp import apply_response, db_to_gain, highpass_db, log_bump_db, lowpass_db, tilt_db


@dataclass(frozen=True)
class DeviceChain:
    highpass_hz: float
    lowpass_hz: float
    tilt_db_per_octave: float = 0.0
    resonances: tuple[tuple[float, float, float], ...] = ()  # (centre Hz, gain dB, width octaves)
    drive: float = 0.0  # soft-clipping strength; 0 is linear
    gain_db: float = 0.0
    noise_floor_db: float = -90.0  # white noise RMS, dB full scale

    def response_db(self, freqs: np.ndarray) -> np.ndarray:
        db = highpass_db(freqs, self.highpass_hz) + tilt_db(freqs, self.tilt_db_per_octave)
        if self.lowpass_hz < freqs[-1]:
            db = db + lowpass_db(freqs, self.lowpass_hz)
        for centre, gain, width in self.resonances:
            db = db + log_bump_db(freqs, centre, gain, width)
        return db

    def record(self, signal: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        """What this device records of ``signal`` (float64 in, float64 out, clipped to [-1, 1])."""
        y = apply_response(signal, sample_rate, self.response_db)
        if self.drive > 0:
            y = np.tanh(self.drive * y) / self.drive
        y = y * db_to_gain(self.gain_db) + db_to_gain(self.noise_floor_db) * rng.standard_normal(y.size)
        return np.clip(y, -1.0, 1.0)


DEVICE_CHAINS: dict[str, DeviceChain] = {
    "a": DeviceChain(highpass_hz=20, lowpass_hz=20000, noise_floor_db=-90),
    "b": DeviceChain(highpass_hz=150, lowpass_hz=15000, resonances=((3000, 6, 0.5), (500, -4, 0.6)),
                     drive=1.0, gain_db=-3, noise_floor_db=-70),
    "c": DeviceChain(highpass_hz=300, lowpass_hz=11000, tilt_db_per_octave=1.5, gain_db=2, drive=1.5,
                     noise_floor_db=-65),
    "s1": DeviceChain(highpass_hz=100, lowpass_hz=8000, resonances=((1500, -8, 0.4), (300, 6, 0.5)),
                      noise_floor_db=-60),
    "s2": DeviceChain(highpass_hz=250, lowpass_hz=16000, resonances=((6000, -9, 1.0),), gain_db=-6,
                      noise_floor_db=-75),
    "s3": DeviceChain(highpass_hz=80, lowpass_hz=12000, resonances=((5000, 9, 0.5),), drive=2.0,
                      noise_floor_db=-72),
    "s4": DeviceChain(highpass_hz=400, lowpass_hz=7000, resonances=((1000, 8, 0.5),), noise_floor_db=-55),
    "s5": DeviceChain(highpass_hz=50, lowpass_hz=18000, tilt_db_per_octave=-1.5,
                      resonances=((150, 8, 0.7), (3000, -6, 0.5)), drive=2.5, gain_db=4, noise_floor_db=-68),
    "s6": DeviceChain(highpass_hz=200, lowpass_hz=10000,
                      resonances=((700, 4, 0.2), (1400, -4, 0.2), (2800, 4, 0.2), (5600, -4, 0.2)),
                      gain_db=-4, noise_floor_db=-62),
}
