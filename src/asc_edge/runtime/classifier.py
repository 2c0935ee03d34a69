"""The one streaming path: pushed audio at the capture rate -> a decision per analysis window.

File mode (files and stdin, read in blocks) and ``--mic`` both push their audio here, so they cut the same
windows (``audio.stream.WindowStream``: the whole signal resampled at once), compute their log-mels the same
way (``audio.windowed.WindowedLogMel``: overlapping windows share frames) and classify them with the same
model call; their decisions are bit-identical on the same audio.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from asc_edge.audio.stream import WindowStream
from asc_edge.audio.windowed import WindowedLogMel
from asc_edge.plumbing.errors import AudioError
from asc_edge.runtime.model import SceneModel

SILENCE_PEAK = 1e-7  # every model-rate sample at or below this: digital silence


@dataclass(frozen=True)
class WindowDecision:
    # slots: a 24 h file has ~17,000 windows
    __slots__ = ("index", "start_s", "end_s", "probabilities", "level", "tail")
    index: int  # the window's place in the stream: 0, 1, ...
    start_s: float  # seconds since the first sample
    end_s: float  # the window's end, or the audio's end when the audio is shorter (a looped clip)
    probabilities: np.ndarray | None  # None: a silent window that the classifier was told not to classify
    level: float  # the window's peak |sample| at the model rate
    tail: bool  # the extra window ending at the audio's end, overlapping the one before

    @property
    def silent(self) -> bool:
        return self.level <= SILENCE_PEAK


class WindowClassifier:
    """``push(block)`` mono capture-rate samples of any size, then ``finish()`` at the end of the audio; each
    yields the decisions of the windows it completed, in order. ``classify_silence=False``: a window of digital
    silence is not run through the model (its probabilities are None), as ``--mic`` reports it as silence."""

    def __init__(self, model: SceneModel, capture_rate: int, hop_samples: int, classify_silence: bool = True) -> None:
        window = model.window.samples
        self.model, self.hop, self.classify_silence = model, hop_samples, classify_silence
        self.rate = model.window.sample_rate
        self.stream = WindowStream(capture_rate, self.rate, window, hop_samples)
        self._features = WindowedLogMel(model.frontend, window, hop_samples)

    @property
    def model_samples(self) -> int:
        """Model-rate samples received so far."""
        return self.stream.model_samples

    def push(self, block: np.ndarray) -> Iterator[WindowDecision]:
        # The stream takes the block now, whether or not the caller iterates over the decisions.
        return self._decide(self.stream.push(block))

    def finish(self) -> Iterator[WindowDecision]:
        """The windows only the end of the audio completes (see ``WindowStream.finish``)."""
        return self._decide(self.stream.finish())

    def _decide(self, ready: list[tuple[int, np.ndarray]]) -> Iterator[WindowDecision]:
        for index, samples in ready:
            start = self.stream.start_of(index)
            with np.errstate(over="ignore", invalid="ignore"):  # huge samples: refused below, not warned about
                features = self._features.features(start, samples)  # always: later windows reuse its frames
            level = float(np.max(np.abs(samples)))
            if not np.isfinite(features).all():
                raise AudioError(f"the window at {start / self.rate:.3f} s has log-mel features that are not finite "
                                 f"(samples up to {level:.3g}, far outside [-1, 1]); nothing to classify")
            probabilities = (self.model.probabilities_of_features(features)
                             if self.classify_silence or level > SILENCE_PEAK else None)
            end = min(start + self.stream.window, self.stream.model_samples)
            yield WindowDecision(index, start / self.rate, end / self.rate, probabilities, level,
                                 self.stream.is_tail(index))
