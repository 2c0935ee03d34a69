"""Named frontend profiles. Every command that computes features takes ``--frontend NAME``.

``dcase`` (default) — for TAU Urban Acoustic Scenes 2020 Mobile 10 s clips, as used by the QTI system:
  * sample_rate 44100: the native rate of TAU 2020 Mobile (DCASE2021 Task 1A description and baseline
    ``task1a.yaml`` ``fs: 44100``).
  * n_mels 256 and hop 1024: the 256 x 431 log-mel input of a 10 s clip that the QTI system and the
    CP-JKU receptive-field-regularised CNNs it builds on use (431 = 1 + 441000 // 1024). We could not read
    the QTI report's exact STFT settings in the material available here; these reproduce its input shape.
  * win_length 2048 (46 ms Hann): the CP-JKU window at 44.1 kHz. n_fft 4096 zero-pads that window so that
    no Slaney mel band below 1 kHz is empty at 256 bands (at n_fft 2048 the lowest bands would be).
  * fmin 0, fmax 22050: full band, as in the DCASE2021 baseline (``fmin: 0``, ``fmax: 22050``).
  * natural log with a 1e-8 floor; Slaney mel scale and area normalisation (librosa's defaults).

``small`` — a low-rate, few-mel profile for fast tests, CI and the synthetic benchmark: 16 kHz, 40 mel
  bands (the DCASE2021 baseline's count), 64 ms Hann window, 32 ms hop.
"""

from __future__ import annotations

from asc_edge.audio.config import FrontendConfig
from asc_edge.plumbing.errors import ConfigError

PROFILES: dict[str, FrontendConfig] = {
    "dcase": FrontendConfig(name="dcase", sample_rate=44100, n_fft=4096, win_length=2048, hop_length=1024,
                            window="hann", n_mels=256, fmin=0.0, fmax=22050.0, log="ln", log_floor=1e-8),
    "small": FrontendConfig(name="small", sample_rate=16000, n_fft=1024, win_length=1024, hop_length=512,
                            window="hann", n_mels=40, fmin=0.0, fmax=8000.0, log="ln", log_floor=1e-8),
}
DEFAULT_PROFILE = "dcase"


def get_profile(name: str) -> FrontendConfig:
    """The frontend config of a named profile; :class:`ConfigError` names the choices otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown frontend profile {name!r}; choose one of: {', '.join(PROFILES)}") from None
