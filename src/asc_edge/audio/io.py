"""Reading audio files: WAV/FLAC/OGG through soundfile, downmixed to mono, resampled to the model rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asc_edge.audio.resample import resample
from asc_edge.errors import AudioError


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1] at ``sample_rate``, with the rate the file was stored at."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


def _soundfile():
    # Imported lazily so that `import asc_edge.audio` works (and fails clearly) without libsndfile.
    try:
        import soundfile
    except (ImportError, OSError) as exc:  # OSError: the libsndfile shared library is missing
        raise AudioError(f"reading audio needs the 'soundfile' package with libsndfile ({exc})") from exc
    return soundfile


def decode_audio(data: np.ndarray, source_rate: int, target_rate: int | None, name: str,
                 min_seconds: float = 0.0) -> AudioClip:
    """Validate, downmix and resample decoded samples (frames x channels or 1-D)."""
    samples = np.asarray(data)
    if samples.ndim == 1:
        samples = samples[:, None]
    channels = samples.shape[1]
    if samples.shape[0] == 0:
        raise AudioError(f"{name}: the file holds no audio samples")
    if np.issubdtype(samples.dtype, np.integer):
        # soundfile normally returns floats; integer arrays come from library users passing raw PCM.
        scale = float(np.iinfo(samples.dtype).max) + 1.0
        samples = samples.astype(np.float64) / scale
    finite = np.isfinite(samples)
    if not finite.any():
        raise AudioError(f"{name}: every sample is NaN or infinite")
    if not finite.all():
        raise AudioError(f"{name}: {int((~finite).sum())} samples are NaN or infinite")
    mono = samples.mean(axis=1, dtype=np.float64)
    rate = int(target_rate) if target_rate else int(source_rate)
    if rate != source_rate:
        mono = resample(mono, int(source_rate), rate)
    mono = np.asarray(mono, dtype=np.float32)
    clip = AudioClip(samples=mono, sample_rate=rate, source_rate=int(source_rate), source_channels=channels)
    if clip.seconds < min_seconds:
        raise AudioError(f"{name}: {clip.seconds:.3f} s of audio, shorter than the {min_seconds:g} s required")
    return clip


def read_audio(path: str | Path, target_rate: int | None = None, min_seconds: float = 0.0) -> AudioClip:
    """Read an audio file as mono float32, resampled to ``target_rate`` (kept as stored when None).

    Raises :class:`AudioError` with a one-line message for a missing file, a file that is not audio, an
    empty or all-NaN/inf file, or one shorter than ``min_seconds``.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    sf = _soundfile()
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, ValueError, OSError) as exc:  # truncated or malformed containers
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc
    return decode_audio(data, rate, target_rate, str(path), min_seconds)
