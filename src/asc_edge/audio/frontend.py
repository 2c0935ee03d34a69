"""The one log-mel frontend (float32 out), with a batch call and a frame-level API (its windowed mode, which
shares frames between overlapping windows, is ``audio/windowed.py``).

Where the time goes, and why it is now near the FFT floor (``benchmarks/frontend_speed.py``):

* Only the ``win_length`` non-zero samples of each frame are windowed and handed to a float32 real FFT of
  ``n_fft`` points (``scipy.fft`` zero-pads them). Where the window sits inside the ``n_fft`` frame only
  changes the phase of the spectrum, never its power, so the frames equal librosa's (centred window).
* The mel filterbank is 99 % zeros: a float32 CSR matrix product (``melbank.mel_bands``) replaces the dense
  (bins x mels) one; the FFT writes the spectrum one frame per column, so that it yields
  ``(n_mels, frames)`` directly.
* Power and log run in float32, the log in place; the FFT input buffer is reused and already zero-padded.

Every frame is computed on its own (the FFT, always in SIMD lanes, see ``FFT_LANES``; the CSR product and the
log column by column), so a frame's value does not depend on which other frames are computed with it: the
batch call and the frame cache that overlapping windows share (``audio/windowed.py``) give bit-identical
frames, whatever the chunks the audio arrived in (tested on x86-64 and on emulated aarch64).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import fft as sp_fft

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.melbank import mel_bands

# Frames per FFT call: bounds the temporaries whatever the signal length, and keeps one call's spectrum
# (~2 MB for dcase) in cache for the power and transpose passes: 64-128 measured 7 % faster than 512.
FRAMES_PER_CALL = 128
# pocketfft transforms several frames at once in SIMD lanes and the rest one by one, and the two paths can
# round differently (they do on aarch64, where the compiler fuses multiply-adds differently). Every call
# therefore transforms a multiple of this many frames (zero frames fill up), so every frame takes the SIMD
# path, whatever the call: 16 covers every lane count (AVX-512 float32 has 16).
FFT_LANES = 16


def window_values(config: FrontendConfig) -> np.ndarray:
    """The periodic analysis window's ``win_length`` values (librosa's convention), float64."""
    n = np.arange(config.win_length)
    if config.window == "hann":
        return 0.5 - 0.5 * np.cos(2 * np.pi * n / config.win_length)
    return 0.54 - 0.46 * np.cos(2 * np.pi * n / config.win_length)  # hamming


def analysis_window(config: FrontendConfig) -> np.ndarray:
    """Periodic window of ``win_length`` centred in ``n_fft`` samples (librosa's convention)."""
    full = np.zeros(config.n_fft)
    start = (config.n_fft - config.win_length) // 2
    full[start:start + config.win_length] = window_values(config)
    return full


class LogMelFrontend:
    """Log-mel spectrogram of mono audio at ``config.sample_rate``; output shape ``(n_mels, n_frames)``."""

    def __init__(self, config: FrontendConfig) -> None:
        self.config = config
        self._window = window_values(config).astype(np.float32)
        # offset of the window's first non-zero sample inside an n_fft frame
        self.window_offset = (config.n_fft - config.win_length) // 2
        self._bands = mel_bands(config)
        # Reused FFT input, n_fft wide so that the FFT needs no padded copy (not thread-safe: one frontend per
        # thread, as the runtime and the data layer use it).
        self._windowed = np.zeros((0, config.n_fft), dtype=np.float32)
        self._log10 = config.log == "db"
        self._floor = np.float32(config.log_floor)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel features of a whole signal (same frames as librosa with ``center=True``)."""
        return self.frames(*self.whole_signal(samples))

    def whole_signal(self, samples: np.ndarray) -> tuple[np.ndarray, int, int]:
        """``(padded signal, first, n_frames)``: the arguments of ``frames``/``spectra`` for a whole signal."""
        cfg = self.config
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        pad = cfg.n_fft // 2 if cfg.center else 0
        # One padded copy and one call: cheaper than computing the edge frames apart (each call transforms
        # a multiple of FFT_LANES frames).
        padded = np.zeros(x.size + 2 * pad, dtype=np.float32)
        padded[pad:pad + x.size] = x
        return padded, self.window_offset, cfg.n_frames(x.size)

    @property
    def lead(self) -> int:
        """Signal index where frame 0's windowed samples start (negative with ``center``): frame i's start at
        ``i * hop_length + lead``."""
        return self.window_offset - (self.config.n_fft // 2 if self.config.center else 0)

    def inside(self, n_samples: int) -> tuple[int, int]:
        """``(first, last)``: frames ``first .. last - 1`` of an ``n_samples`` signal have all their windowed
        samples inside it (``first == last`` when none has)."""
        cfg = self.config
        first = min(max(0, -(self.lead // cfg.hop_length)), cfg.n_frames(n_samples))
        last = min((n_samples - cfg.win_length - self.lead) // cfg.hop_length + 1, cfg.n_frames(n_samples))
        return first, max(first, last)

    def padded_frames(self, x: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Frames ``start .. stop - 1`` of signal ``x`` (zeros before and after it), from a zero-padded copy
        of only the samples they need."""
        cfg = self.config
        if stop <= start:
            return np.zeros((cfg.n_mels, 0), dtype=np.float32)
        begin = start * cfg.hop_length + self.lead  # signal index of frame `start`'s windowed samples
        span = np.zeros((stop - start - 1) * cfg.hop_length + cfg.win_length, dtype=np.float32)
        lo, hi = max(begin, 0), min(begin + span.size, x.size)
        if hi > lo:
            span[lo - begin:hi - begin] = x[lo:hi]
        return self.frames(span, 0, stop - start)

    def inside_frames(self, x: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Frames ``start .. stop - 1`` of signal ``x``, all of whose windowed samples lie inside ``x`` (frames
        ``inside(x.size)``): the same values as those frames of ``self(x)``, computed from ``x`` alone."""
        return self.frames(x, start * self.config.hop_length + self.lead, stop - start)

    def frames(self, signal: np.ndarray, first: int, n_frames: int) -> np.ndarray:
        """Log-mel ``(n_mels, n_frames)`` of frames whose windowed parts start at ``signal[first]``, then every
        ``hop_length`` samples; each takes ``win_length`` samples of ``signal`` (float32, 1-D)."""
        cfg = self.config
        out = np.empty((cfg.n_mels, max(n_frames, 0)), dtype=np.float32)
        if n_frames <= 0:
            return out
        for lo, spectrum in self.spectra(signal, first, n_frames):
            power = np.square(spectrum.real)
            power += np.square(spectrum.imag)
            out[:, lo:lo + spectrum.shape[1]] = self._bands @ power
        np.maximum(out, self._floor, out=out)
        if self._log10:
            np.log10(out, out=out)
            out *= np.float32(10.0)
        else:
            np.log(out, out=out)
        return out

    def spectra(self, signal: np.ndarray, first: int, n_frames: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(first frame, spectrum)`` per FFT call: the complex spectra ``(n_fft // 2 + 1, frames)`` of the frames
        ``frames`` takes, one frame per column: the windowing and the FFT alone (audio/fft_floor.py times them
        as the floor under the frontend)."""
        cfg = self.config
        if first < 0 or first + (n_frames - 1) * cfg.hop_length + cfg.win_length > signal.size:
            raise ValueError("frames outside the signal")
        x = np.ascontiguousarray(signal, dtype=np.float32)
        step = x.strides[0]
        for lo in range(0, n_frames, FRAMES_PER_CALL):
            count = min(FRAMES_PER_CALL, n_frames - lo)
            view = np.lib.stride_tricks.as_strided(
                x[first + lo * cfg.hop_length:], shape=(count, cfg.win_length),
                strides=(cfg.hop_length * step, step), writeable=False)
            rows = -(-count // FFT_LANES) * FFT_LANES
            if self._windowed.shape[0] < rows:  # grown once to the largest call (columns past win_length: 0)
                self._windowed = np.zeros((rows, cfg.n_fft), dtype=np.float32)
            windowed = self._windowed[:rows]
            np.multiply(view, self._window, out=windowed[:count, :cfg.win_length])
            windowed[count:, :cfg.win_length] = 0.0  # lane filler: zero frames
            # Transforms along axis 0 of the transposed view: pocketfft reads each frame's contiguous row and
            # writes the spectrum one frame per column, the layout the CSR product needs to yield
            # (n_mels, frames). 7 % faster than a row-wise FFT and a transposing copy of the power; building
            # the frames column-wise in the first place measured 45 % slower.
            yield lo, sp_fft.rfft(windowed.T, axis=0)[:, :count]
