"""File mode: expand inputs (files, folders recursively, ``-`` for a WAV on stdin), read, window, classify."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asc_edge.audio.io import decode_audio, read_audio
from asc_edge.audio.windows import fit_to_window, window_starts
from asc_edge.errors import AudioError
from asc_edge.runtime.model import SceneModel

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3"}
STDIN = "-"


@dataclass
class WindowResult:
    start: float  # seconds into the file
    end: float
    probabilities: np.ndarray


@dataclass
class FileResult:
    source: str
    seconds: float
    source_rate: int
    source_channels: int
    windows: list[WindowResult] = field(default_factory=list)
    looped: bool = False  # shorter than one window: repeated to fill it

    @property
    def probabilities(self) -> np.ndarray:
        """The file's result: the mean of its windows' probabilities."""
        return np.mean([w.probabilities for w in self.windows], axis=0)


def expand_inputs(inputs: list[str]) -> tuple[list[str], list[str]]:
    """``(sources in order, error lines)``: folders become their audio files, sorted, recursively."""
    sources, errors = [], []
    for item in inputs:
        path = Path(item)
        if item == STDIN:
            sources.append(STDIN)
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
            if not found:
                errors.append(f"{path}: folder has no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
            sources.extend(str(p) for p in found)
        elif path.exists():
            sources.append(item)
        else:
            errors.append(f"{path}: no such file or folder")
    return sources, errors


def read_source(source: str, rate: int):
    if source != STDIN:
        return read_audio(source, target_rate=rate)
    import soundfile

    data = sys.stdin.buffer.read()
    if not data:
        raise AudioError("stdin: no data (pipe a WAV file into 'asc-listen -')")
    try:
        samples, source_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"stdin: not a readable audio stream ({exc})") from exc
    return decode_audio(samples, source_rate, rate, "stdin")


def classify_source(model: SceneModel, source: str, hop_seconds: float | None = None) -> FileResult:
    """Every window of one source (hop defaults to the window: no overlap)."""
    clip = read_source(source, model.window.sample_rate)
    if not np.any(np.abs(clip.samples) > 1e-7):
        raise AudioError(f"{source}: the audio is digital silence; nothing to classify")
    window = model.window.samples
    hop = window if hop_seconds is None else max(1, round(hop_seconds * model.window.sample_rate))
    result = FileResult(source=source, seconds=clip.seconds, source_rate=clip.source_rate,
                        source_channels=clip.source_channels, looped=clip.samples.size < window)
    samples = fit_to_window(clip.samples, window)
    rate = model.window.sample_rate
    for start in window_starts(samples.size, window, hop):
        probabilities = model.probabilities(samples[start:start + window])
        end = min(start + window, clip.samples.size)
        result.windows.append(WindowResult(start / rate, end / rate, probabilities))
    return result
