"""The frozen, JSON-serialisable description of a log-mel frontend.

The config travels with every artefact (feature cache key, checkpoint, exported .tflite metadata), so the
device rebuilds exactly the frontend the model was trained with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from asc_edge.plumbing.errors import ConfigError

WINDOWS = ("hann", "hamming")
LOG_TYPES = ("ln", "db")
MEL_SCALES = ("slaney", "htk")
MEL_NORMS = ("slaney", "none")


@dataclass(frozen=True)
class FrontendConfig:
    """Parameters of the log-mel frontend (librosa's names and conventions).

    ``log`` is ``"ln"`` for ``ln(max(mel, log_floor))`` or ``"db"`` for ``10*log10(max(mel, log_floor))``.
    With ``center`` the signal is padded with ``n_fft // 2`` zeros at both ends (librosa's
    ``center=True, pad_mode="constant"``), giving ``1 + n_samples // hop_length`` frames.
    """

    name: str
    sample_rate: int
    n_fft: int
    win_length: int
    hop_length: int
    window: str
    n_mels: int
    fmin: float
    fmax: float
    log: str = "ln"
    log_floor: float = 1e-10
    mel_scale: str = "slaney"
    mel_norm: str = "slaney"
    center: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate <= 0:
            problems.append("sample_rate must be positive")
        if self.n_fft <= 0 or self.n_fft % 2:
            problems.append("n_fft must be a positive even number")
        if not 0 < self.win_length <= self.n_fft:
            problems.append("win_length must be in 1..n_fft")
        if self.hop_length <= 0:
            problems.append("hop_length must be positive")
        if self.window not in WINDOWS:
            problems.append(f"window must be one of {WINDOWS}")
        if self.n_mels <= 0:
            problems.append("n_mels must be positive")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            problems.append("need 0 <= fmin < fmax <= sample_rate / 2")
        if self.log not in LOG_TYPES:
            problems.append(f"log must be one of {LOG_TYPES}")
        if not self.log_floor > 0:
            problems.append("log_floor must be positive")
        if self.mel_scale not in MEL_SCALES:
            problems.append(f"mel_scale must be one of {MEL_SCALES}")
        if self.mel_norm not in MEL_NORMS:
            problems.append(f"mel_norm must be one of {MEL_NORMS}")
        if problems:
            raise ConfigError(f"frontend config {self.name!r}: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> FrontendConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"frontend config has unknown keys: {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:  # a required key is missing
            raise ConfigError(f"frontend config is incomplete: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> FrontendConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"frontend config is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError("frontend config JSON must be an object")
        return cls.from_dict(data)

    def digest(self) -> str:
        """Short stable hash of every parameter that changes the features (the name excluded)."""
        payload = {k: v for k, v in self.to_dict().items() if k != "name"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def n_frames(self, n_samples: int) -> int:
        """Number of frames the frontend yields for ``n_samples`` samples."""
        if self.center:
            return 1 + n_samples // self.hop_length
        return 0 if n_samples < self.n_fft else 1 + (n_samples - self.n_fft) // self.hop_length

    def window_samples(self, n_frames: int) -> int:
        """The fewest samples that give ``n_frames`` frames (:meth:`n_frames` inverted): the analysis window a
        model taking ``n_frames`` frames is exported for."""
        return (n_frames - 1) * self.hop_length + (0 if self.center else self.n_fft)
