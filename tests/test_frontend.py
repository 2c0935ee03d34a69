from dataclasses import replace

import librosa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.profiles import PROFILES, get_profile
from asc_edge.plumbing.errors import ConfigError

VARIANTS = {
    **PROFILES,
    "hamming-db-htk": replace(PROFILES["small"], name="x", window="hamming", log="db", mel_scale="htk",
                              mel_norm="none", win_length=640, fmin=50.0, fmax=7000.0),
}


def _scene_like(rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    signal = 0.05 * rng.standard_normal(t.size) + 0.2 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * t))
    return signal.astype(np.float32)


def _librosa_logmel(x: np.ndarray, cfg: FrontendConfig) -> tuple[np.ndarray, np.ndarray]:
    power = librosa.feature.melspectrogram(
        y=x, sr=cfg.sample_rate, n_fft=cfg.n_fft, win_length=cfg.win_length, hop_length=cfg.hop_length,
        window=cfg.window, center=cfg.center, pad_mode="constant", power=2.0, n_mels=cfg.n_mels,
        fmin=cfg.fmin, fmax=cfg.fmax, htk=cfg.mel_scale == "htk",
        norm="slaney" if cfg.mel_norm == "slaney" else None)
    floored = np.maximum(power, cfg.log_floor)
    return power, (np.log(floored) if cfg.log == "ln" else 10 * np.log10(floored))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_matches_librosa(name: str) -> None:
    cfg = VARIANTS[name]
    x = _scene_like(cfg.sample_rate, 2.0)
    ours = LogMelFrontend(cfg)(x)
    power, reference = _librosa_logmel(x, cfg)
    assert ours.dtype == np.float32 and ours.shape == reference.shape == (cfg.n_mels, cfg.n_frames(x.size))
    # Mel power agrees to 1e-4 relative; so does the log (relative to its magnitude, at least 1).
    ours_power = np.exp(ours.astype(np.float64)) if cfg.log == "ln" else 10 ** (ours.astype(np.float64) / 10)
    significant = power > 10 * cfg.log_floor
    np.testing.assert_allclose(ours_power[significant], power[significant], rtol=1e-4)
    assert np.all(np.abs(ours - reference) <= 1e-4 * np.maximum(np.abs(reference), 1.0))


def _stream(frontend: LogMelFrontend, x: np.ndarray, sizes) -> np.ndarray:
    stream = frontend.stream()
    parts, pos = [], 0
    for size in sizes:
        if pos >= x.size:
            break
        parts.append(stream.push(x[pos:pos + size]))
        pos += size
    parts.append(stream.push(x[pos:]))
    parts.append(stream.flush())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("chunk", [1, 160, 511, 1024, 4096, 44100, 10**7])
def test_chunked_stream_equals_batch_exactly(profile: str, chunk: int) -> None:
    cfg = PROFILES[profile]
    x = _scene_like(cfg.sample_rate, 1.3 if chunk > 1 else 0.2)
    frontend = LogMelFrontend(cfg)
    streamed = _stream(frontend, x, [chunk] * (x.size // chunk + 1))
    np.testing.assert_array_equal(streamed, frontend(x))


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=40), n=st.integers(0, 20000))
def test_random_chunk_sizes_equal_batch(sizes: list[int], n: int) -> None:
    cfg = PROFILES["small"]
    x = _scene_like(cfg.sample_rate, 2.0)[:n]
    frontend = LogMelFrontend(cfg)
    np.testing.assert_array_equal(_stream(frontend, x, sizes), frontend(x))


def test_stream_reports_frames_and_refuses_use_after_flush() -> None:
    frontend = LogMelFrontend(PROFILES["small"])
    stream = frontend.stream()
    stream.push(np.zeros(16000, dtype=np.float32))
    stream.flush()
    assert stream.frames_emitted == PROFILES["small"].n_frames(16000)
    with pytest.raises(RuntimeError):
        stream.push(np.zeros(10))


def test_config_json_round_trip_and_digest() -> None:
    cfg = get_profile("dcase")
    assert FrontendConfig.from_json(cfg.to_json()) == cfg
    assert replace(cfg, name="renamed").digest() == cfg.digest()
    assert replace(cfg, hop_length=512).digest() != cfg.digest()
    with pytest.raises(AttributeError):
        cfg.n_mels = 3  # frozen


@pytest.mark.parametrize("bad", [{"n_fft": 1023}, {"win_length": 4096}, {"window": "blackman"},
                                 {"fmax": 9000.0}, {"log": "log2"}, {"hop_length": 0}, {"log_floor": 0.0}])
def test_invalid_configs_are_refused(bad: dict) -> None:
    with pytest.raises(ConfigError):
        replace(PROFILES["small"], **bad)


def test_unknown_profile_and_bad_json() -> None:
    with pytest.raises(ConfigError, match="dcase, small"):
        get_profile("huge")
    with pytest.raises(ConfigError):
        FrontendConfig.from_json('{"name": "x"}')
    with pytest.raises(ConfigError):
        FrontendConfig.from_json("[1, 2]")
    with pytest.raises(ConfigError):
        FrontendConfig.from_dict({**PROFILES["small"].to_dict(), "colour": "blue"})


def test_dcase_profile_shape_for_a_tau_clip() -> None:
    assert get_profile("dcase").n_frames(441000) == 431
