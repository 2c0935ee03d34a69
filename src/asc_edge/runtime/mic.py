"""Live microphone: a PortAudio callback fills a queue; windows are cut and classified off the audio thread.

Capture runs at the device's native rate and goes through file mode's ``WindowClassifier`` (resampled
continuously), so a 44.1/48 kHz USB microphone works and the decisions equal file mode on the same audio;
overlapping windows share their log-mel frames, so a decision costs about one hop of features plus one invoke.
A window of digital silence is reported as silence (``Decision.silent``), not classified as a scene. A device that never
delivers data, or stops, raises :class:`AudioError` after ``timeout`` seconds; the stream is always
``abort()``-ed (``stop()`` can hang when no data flows).
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from asc_edge.plumbing.errors import AudioError
from asc_edge.runtime.classifier import WindowClassifier
from asc_edge.runtime.model import SceneModel


def sounddevice_module():
    try:
        import sounddevice
    except ImportError as exc:
        raise AudioError("--mic needs the 'sounddevice' package: pip install sounddevice") from exc
    except OSError as exc:  # the PortAudio shared library is missing
        raise AudioError(f"--mic needs PortAudio (Debian/Raspberry Pi OS: sudo apt install libportaudio2): {exc}") \
            from exc
    return sounddevice


def input_devices() -> list[dict]:
    sd = sounddevice_module()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise AudioError(f"cannot list audio devices: {exc}") from exc
    return [{"index": i, **dict(d)} for i, d in enumerate(devices) if d["max_input_channels"] > 0]


def resolve_device(device: str | None) -> tuple[int | str | None, dict]:
    """The device to open (index, name substring or None for the default) and its PortAudio info."""
    sd = sounddevice_module()
    chosen: int | str | None = int(device) if device is not None and device.isdigit() else device
    try:
        info = sd.query_devices(chosen, "input")
    except (ValueError, sd.PortAudioError) as exc:
        available = ", ".join(f"{d['index']}: {d['name']}" for d in input_devices()) or "none"
        raise AudioError(f"no usable input device {device or '(default)'}: {str(exc).splitlines()[0]} "
                         f"(input devices: {available})") from exc
    return chosen, dict(info)


class Smoother:
    """Moving average over the last ``size`` windows, or an exponential moving average with ``alpha``."""

    def __init__(self, mode: str = "none", size: int = 3, alpha: float = 0.5) -> None:
        if mode not in ("none", "mean", "ema"):
            raise ValueError(f"smoothing must be none, mean or ema, got {mode!r}")
        self.mode, self.alpha = mode, alpha
        self._recent: deque = deque(maxlen=max(1, size))
        self._ema: np.ndarray | None = None

    def __call__(self, probabilities: np.ndarray) -> np.ndarray:
        if self.mode == "mean":
            self._recent.append(probabilities)
            return np.mean(self._recent, axis=0)
        if self.mode == "ema":
            previous = probabilities if self._ema is None else self._ema
            self._ema = self.alpha * probabilities + (1 - self.alpha) * previous
            return self._ema
        return probabilities


@dataclass
class Decision:
    window: int
    start: float  # seconds since capture began
    end: float
    probabilities: np.ndarray  # raw, this window only
    smoothed: np.ndarray
    label: str | None  # None: below --min-confidence (reported as 'unknown')
    confidence: float
    latency_ms: float  # from the window's last sample reaching us to the decision
    silent: bool = False  # digital silence: not classified (probabilities zero, label None)
    level: float = 0.0  # the window's peak |sample| at the model rate


@dataclass
class Session:
    capture_rate: int
    device_name: str
    decisions: int = 0
    overflows: int = 0
    seconds: float = 0.0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=100_000))  # bounded: long runs stay flat
    interrupted: bool = False


def listen(model: SceneModel, on_decision: Callable[[Decision], None], device: str | None = None,
           hop_seconds: float = 1.0, smoother: Smoother | None = None, min_confidence: float = 0.0,
           max_seconds: float | None = None, timeout: float = 5.0, block_size: int = 0,
           capture_rate: int | None = None, record_path: str | None = None) -> Session:
    """Capture until ``max_seconds`` of audio (or Ctrl-C), calling ``on_decision`` once per window."""
    sd = sounddevice_module()
    chosen, info = resolve_device(device)
    rate = int(capture_rate or info["default_samplerate"])
    hop = max(1, round(hop_seconds * model.window.sample_rate))
    classifier = WindowClassifier(model, rate, hop, classify_silence=False)
    smoother = smoother or Smoother()
    session = Session(capture_rate=rate, device_name=str(info.get("name")))
    chunks: queue.Queue = queue.Queue()

    def callback(indata: np.ndarray, frames: int, time_info, status) -> None:  # PortAudio's thread: no work here
        chunks.put((time.perf_counter(), indata[:, 0].copy(), bool(status.input_overflow)))

    try:
        stream = sd.InputStream(device=chosen, channels=1, samplerate=rate, blocksize=block_size,
                                dtype="float32", callback=callback)
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(f"cannot open input device {session.device_name!r} at {rate} Hz: "
                         f"{str(exc).splitlines()[0]}") from exc
    recording = None
    try:
        if record_path:  # float32 WAV: exactly the samples the model saw, so file mode on it gives the same
            import soundfile

            recording = soundfile.SoundFile(record_path, "w", samplerate=rate, channels=1, subtype="FLOAT")
        stream.start()
        while max_seconds is None or classifier.stream.received_seconds < max_seconds:
            try:
                arrived, chunk, overflowed = chunks.get(timeout=timeout)
            except queue.Empty:
                raise AudioError(f"no audio from {session.device_name!r} for {timeout:g} s (device gone or "
                                 f"muted?); stopped") from None
            session.overflows += overflowed
            if recording is not None:
                recording.write(chunk)
            for window in classifier.push(chunk):
                if window.silent:  # digital silence: not classified; the smoother skips it
                    zeros = np.zeros(len(model.labels))
                    latency = 1000.0 * (time.perf_counter() - arrived)
                    decision = Decision(window.index, window.start_s, window.end_s, zeros, zeros, None, 0.0,
                                        latency, silent=True, level=window.level)
                else:
                    smoothed = smoother(window.probabilities)
                    best = int(np.argmax(smoothed))
                    confident = float(smoothed[best]) >= min_confidence
                    latency = 1000.0 * (time.perf_counter() - arrived)
                    decision = Decision(window.index, window.start_s, window.end_s, window.probabilities, smoothed,
                                        model.labels[best] if confident else None, float(smoothed[best]), latency,
                                        level=window.level)
                session.decisions += 1
                session.latencies_ms.append(latency)
                on_decision(decision)
    except KeyboardInterrupt:
        session.interrupted = True
    finally:
        session.seconds = classifier.stream.received_seconds
        stream.abort()
        stream.close()
        if recording is not None:
            recording.close()
    return session
