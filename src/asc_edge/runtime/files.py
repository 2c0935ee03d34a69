"""File mode: expand inputs (files, folders recursively, ``-`` for a WAV on stdin), read, window, classify.

A source is read in blocks and pushed through the same ``WindowClassifier`` as ``--mic``, so memory does not
grow with its length and the windows are those of the whole signal resampled at once.

Too-short audio: below ``min_seconds`` (default ``DEFAULT_MIN_SECONDS``) a source is refused with one line;
between that and one window it is looped to fill the window and its result is marked ``looped``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asc_edge.audio.io import open_audio, open_stdin
from asc_edge.audio.windows import MIN_CLIP_SECONDS
from asc_edge.plumbing.errors import AudioError
from asc_edge.runtime.classifier import SILENCE_PEAK, WindowClassifier, WindowDecision
from asc_edge.runtime.model import SceneModel

# 1 s: an acoustic scene is an ambience over seconds; a clip under 1 s looped to fill a 5-10 s window is
# mostly its own repetition (>= 5 copies), and the model saw nothing like it in training (TAU clips are 10 s).
DEFAULT_MIN_SECONDS = MIN_CLIP_SECONDS  # the one minimum, shared with training's folder layout
READ_BLOCK = 1 << 16  # capture samples per read: bounded memory whatever the length

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3"}
STDIN = "-"


@dataclass
class WindowResult:
    # slots: a 24 h file has ~17,000 windows; without a __dict__ each costs ~100 bytes less
    __slots__ = ("start", "end", "probabilities")
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


def open_source(source: str):
    """A block reader for a file or ``-`` (standard input)."""
    return open_stdin() if source == STDIN else open_audio(source)


def frames_hop(model: SceneModel, hop_seconds: float | None) -> int:
    """The hop in model-rate samples (the window when None: no overlap)."""
    if hop_seconds is None:
        return model.window.samples
    return max(1, round(hop_seconds * model.window.sample_rate))


def classify_source(model: SceneModel, source: str, hop_seconds: float | None = None,
                    min_seconds: float = DEFAULT_MIN_SECONDS, read_block: int = READ_BLOCK) -> FileResult:
    """Every window of one source (hop defaults to the window: no overlap), reading ``read_block`` samples at
    a time (the result does not depend on it)."""
    rate, window = model.window.sample_rate, model.window.samples
    with open_source(source) as audio:
        audio.check_rate(rate)  # a crafted rate is refused before any sample is read
        classifier = WindowClassifier(model, audio.rate, frames_hop(model, hop_seconds))
        windows: list[WindowResult] = []
        for block in audio.blocks(read_block):
            windows.extend(_results(classifier.push(block), float("inf")))
        n = classifier.model_samples
        seconds = n / rate
        if 0 < n < window and seconds < min_seconds:  # refused before the (pointless) looped classification
            raise AudioError(f"{source}: {seconds:.3f} s of audio, shorter than the {min_seconds:g} s minimum "
                             f"(--min-duration)")
        # File mode's windows end at most at `seconds`, which counts the samples before the resampler's flushed
        # tail (up to ~1 ms at 44.1 kHz): kept as it was, so the output is unchanged.
        windows.extend(_results(classifier.finish(), seconds))
    if classifier.stream.peak <= SILENCE_PEAK:
        raise AudioError(f"{source}: the audio is digital silence; nothing to classify")
    return FileResult(source=source, seconds=seconds, source_rate=audio.rate, source_channels=audio.channels,
                      windows=windows, looped=classifier.stream.looped)


def _results(decisions: Iterable[WindowDecision], end_limit: float) -> Iterator[WindowResult]:
    return (WindowResult(d.start_s, min(d.end_s, end_limit), d.probabilities) for d in decisions)
