"""File mode: expand inputs (files, folders recursively, ``-`` for a WAV on stdin), read, window, classify.

A source is read in blocks and pushed through the same ``WindowClassifier`` as ``--mic``, so memory does not
grow with its length and the windows are those of the whole signal resampled at once.

Too-short audio: below ``min_seconds`` (default ``DEFAULT_MIN_SECONDS``) a source is refused with one line;
between that and one window it is looped to fill the window and its result is marked ``looped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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

UNKNOWN_LABEL = "unknown"  # a window or file under --min-confidence, in every mode, format and MQTT message
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3"}
STDIN = "-"


class WindowResult:
    """One analysed window. ``tail``: the extra window ending at the file's end (overlapping the one before);
    ``unknown``: its top probability is under ``--min-confidence``."""

    # slots: a 24 h file has ~17,000 windows; without a __dict__ each costs ~100 bytes less
    __slots__ = ("start", "end", "probabilities", "tail", "unknown", "level")

    def __init__(self, start: float, end: float, probabilities: np.ndarray, tail: bool = False,
                 unknown: bool = False, level: float = 0.0) -> None:
        self.start, self.end, self.probabilities = start, end, probabilities  # seconds into the file
        self.tail, self.unknown, self.level = tail, unknown, level

    def __repr__(self) -> str:
        return f"WindowResult({self.start:.3f}-{self.end:.3f} s, tail={self.tail}, unknown={self.unknown})"


@dataclass
class FileResult:
    """A source's result. ``windows`` holds every window unless the caller streamed them instead
    (``classify_source(keep_windows=False)``); the summary comes from running totals either way."""

    source: str
    seconds: float
    source_rate: int
    source_channels: int
    windows: list[WindowResult] = field(default_factory=list)
    looped: bool = False  # shorter than one window: repeated to fill it
    window_count: int = 0  # windows analysed (0: count ``windows``)
    probability_sum: np.ndarray | None = None  # running total of the windows' probabilities
    unknown_windows: int = 0  # windows under --min-confidence

    @property
    def probabilities(self) -> np.ndarray:
        """The file's result: the mean of its windows' probabilities."""
        if self.probability_sum is not None:
            return self.probability_sum / self.window_count
        return np.mean([w.probabilities for w in self.windows], axis=0)

    @property
    def windows_analysed(self) -> int:
        return self.window_count or len(self.windows)

    def add(self, window: WindowResult, keep: bool) -> None:
        """Count one window into the running totals (and keep it when asked)."""
        self.window_count += 1
        self.unknown_windows += window.unknown
        self.probability_sum = (window.probabilities.copy() if self.probability_sum is None
                                else self.probability_sum + window.probabilities)
        if keep:
            self.windows.append(window)


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
                    min_seconds: float = DEFAULT_MIN_SECONDS, read_block: int = READ_BLOCK,
                    on_window: Callable[[FileResult, WindowResult], None] | None = None, keep_windows: bool = True,
                    min_confidence: float = 0.0) -> FileResult:
    """Every window of one source (hop defaults to the window: no overlap; ``hop_seconds`` is used as given,
    ``asc-listen`` rounds it to whole frontend hops first), reading ``read_block`` samples at a time (the result
    does not depend on it). ``on_window(result, window)`` gets each window as it is made
    (``result.seconds`` is known only at the end); ``keep_windows=False`` keeps only running totals, so memory
    stays flat however long the source. A window whose top probability is under ``min_confidence`` is marked
    ``unknown``."""
    rate, window = model.window.sample_rate, model.window.samples
    with open_source(source) as audio:
        audio.check_rate(rate)  # a crafted rate is refused before any sample is read
        classifier = WindowClassifier(model, audio.rate, frames_hop(model, hop_seconds))
        result = FileResult(source=source, seconds=0.0, source_rate=audio.rate, source_channels=audio.channels)

        def take(decisions: Iterable[WindowDecision], end_limit: float) -> None:
            for d in _checked(decisions, source):
                w = WindowResult(d.start_s, min(d.end_s, end_limit), d.probabilities, d.tail,
                                 float(d.probabilities.max()) < min_confidence, d.level)
                result.add(w, keep_windows)
                if on_window is not None:
                    on_window(result, w)

        for block in audio.blocks(read_block):
            take(classifier.push(block), float("inf"))
        n = classifier.model_samples
        result.seconds = seconds = n / rate
        if 0 < n < window and seconds < min_seconds:  # refused before the (pointless) looped classification
            raise AudioError(f"{source}: {seconds:.3f} s of audio, shorter than the {min_seconds:g} s minimum "
                             f"(--min-duration)")
        result.looped = 0 < n < window  # known before finish() emits the looped window, which carries the mark
        # finish() flushes the resampler at once (its last output samples, ~1 ms at 44.1 kHz), so the length is
        # final before any window is taken: the tail window and the file end at the audio's own end.
        last = classifier.finish()
        result.seconds = seconds = classifier.model_samples / rate
        take(last, seconds)
    if classifier.stream.peak <= SILENCE_PEAK:
        raise AudioError(f"{source}: the audio is digital silence; nothing to classify")
    result.looped = classifier.stream.looped
    return result


def _checked(decisions: Iterable[WindowDecision], source: str) -> Iterator[WindowDecision]:
    """The decisions, with a refusal (non-finite features) named after its source."""
    try:
        yield from decisions
    except AudioError as exc:
        raise AudioError(f"{source}: {exc}") from None
