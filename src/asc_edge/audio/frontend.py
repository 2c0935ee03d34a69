"""The one log-mel frontend (numpy, float32 out), with a batch call and a streaming API.

Batch and streaming give bit-identical frames: both compute frames in fixed blocks of ``BLOCK_FRAMES``
rows placed at ``frame_index % BLOCK_FRAMES``, so every frame goes through the same FFT and matrix
product with the same shapes and the same row position, whatever the chunk sizes fed to the stream.
"""

from __future__ import annotations

import numpy as np

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.melbank import mel_filterbank

BLOCK_FRAMES = 8


def analysis_window(config: FrontendConfig) -> np.ndarray:
    """Periodic window of ``win_length`` centred in ``n_fft`` samples (librosa's convention)."""
    n = np.arange(config.win_length)
    if config.window == "hann":
        win = 0.5 - 0.5 * np.cos(2 * np.pi * n / config.win_length)
    else:  # hamming
        win = 0.54 - 0.46 * np.cos(2 * np.pi * n / config.win_length)
    full = np.zeros(config.n_fft)
    start = (config.n_fft - config.win_length) // 2
    full[start:start + config.win_length] = win
    return full


class LogMelFrontend:
    """Log-mel spectrogram of mono audio at ``config.sample_rate``; output shape ``(n_mels, n_frames)``."""

    def __init__(self, config: FrontendConfig) -> None:
        self.config = config
        self._window = analysis_window(config)
        self._mel_t = np.ascontiguousarray(
            mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax,
                           config.mel_scale, config.mel_norm).T)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Log-mel features of a whole signal (same frames as librosa with ``center=True``)."""
        stream = self.stream()
        first = stream.push(samples)
        return np.concatenate([first, stream.flush()], axis=1)

    def stream(self) -> StreamingLogMel:
        """A new streaming extractor that accepts audio in chunks of any size."""
        return StreamingLogMel(self)

    def _log(self, mel_power: np.ndarray) -> np.ndarray:
        floored = np.maximum(mel_power, self.config.log_floor)
        return np.log(floored) if self.config.log == "ln" else 10.0 * np.log10(floored)

    def frames_from_padded(self, padded: np.ndarray, first_frame: int, n_frames: int) -> np.ndarray:
        """Log-mel of frames ``first_frame .. first_frame + n_frames - 1``.

        ``padded[0]`` is the padded-signal sample where frame ``first_frame`` starts. Frames are laid out in
        blocks of ``BLOCK_FRAMES`` rows at row ``frame % BLOCK_FRAMES`` (unused rows zero) and every block
        goes through the same FFT and the same (BLOCK_FRAMES x bins) @ (bins x mels) product, whatever the
        number of blocks: batch and streaming calls therefore give bit-identical frames. All blocks are
        transformed in one vectorised call (numpy's FFT and matmul treat each block on its own).
        """
        cfg = self.config
        if n_frames <= 0:
            return np.zeros((cfg.n_mels, 0), dtype=np.float32)
        lead = first_frame % BLOCK_FRAMES  # empty rows before the first frame in its block
        n_blocks = -(-(lead + n_frames) // BLOCK_FRAMES)
        frames = np.lib.stride_tricks.as_strided(
            padded, shape=(n_frames, cfg.n_fft), strides=(cfg.hop_length * padded.strides[0], padded.strides[0]))
        block = np.zeros((n_blocks * BLOCK_FRAMES, cfg.n_fft))
        block[lead:lead + n_frames] = frames
        spectrum = np.fft.rfft(block.reshape(n_blocks, BLOCK_FRAMES, cfg.n_fft) * self._window, axis=-1)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        mel = np.matmul(power, self._mel_t).reshape(n_blocks * BLOCK_FRAMES, cfg.n_mels)
        return self._log(mel[lead:lead + n_frames]).astype(np.float32).T


class StreamingLogMel:
    """Push audio in arbitrary chunks; each push returns the frames that became complete."""

    def __init__(self, frontend: LogMelFrontend) -> None:
        self._frontend = frontend
        cfg = frontend.config
        self._pad = cfg.n_fft // 2 if cfg.center else 0
        self._buffer = np.zeros(self._pad)  # padded-signal samples from the next frame's start on
        self._next_frame = 0
        self._finished = False

    @property
    def frames_emitted(self) -> int:
        return self._next_frame

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add mono samples; returns the newly complete frames, shape ``(n_mels, k)`` (k may be 0)."""
        if self._finished:
            raise RuntimeError("push() after flush(): start a new stream")
        chunk = np.asarray(samples, dtype=np.float64).reshape(-1)
        self._buffer = np.concatenate([self._buffer, chunk])
        return self._emit()

    def flush(self) -> np.ndarray:
        """End of signal: pad the tail (``center``) and return the last frames."""
        if self._finished:
            raise RuntimeError("flush() called twice")
        self._finished = True
        self._buffer = np.concatenate([self._buffer, np.zeros(self._pad)])
        return self._emit()

    def _emit(self) -> np.ndarray:
        cfg = self._frontend.config
        if self._buffer.size < cfg.n_fft:
            return np.zeros((cfg.n_mels, 0), dtype=np.float32)
        n_ready = 1 + (self._buffer.size - cfg.n_fft) // cfg.hop_length
        frames = self._frontend.frames_from_padded(self._buffer, self._next_frame, n_ready)
        self._next_frame += n_ready
        self._buffer = self._buffer[n_ready * cfg.hop_length:]
        return frames
