from dataclasses import replace

import librosa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.profiles import PROFILES, get_profile
from asc_edge.audio.stream import WindowStream
from asc_edge.audio.windowed import WindowedLogMel
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


def _windowed(frontend: LogMelFrontend, x: np.ndarray, window: int, hop: int, sizes) -> list[tuple[int, np.ndarray,
                                                                                                np.ndarray]]:
    """``(start, windowed-mode features, samples)`` of every window of ``x``, the audio pushed in ``sizes``
    chunks (then the rest) through the runtime's window stream at the frontend's own rate."""
    rate = frontend.config.sample_rate
    stream, windowed = WindowStream(rate, rate, window, hop), WindowedLogMel(frontend, window, hop)
    ready, pos = [], 0
    for size in sizes:
        if pos >= x.size:
            break
        ready += stream.push(x[pos:pos + size])
        pos += size
    ready += stream.push(x[pos:]) + stream.finish()
    return [(stream.start_of(i), windowed.features(stream.start_of(i), w), w) for i, w in ready]


def _assert_windowed_equals_batch(frontend: LogMelFrontend, x: np.ndarray, windows) -> None:
    """Each window's features are exactly the batch call on its samples, and its frames that lie inside it
    exactly the batch call's frames of the whole signal at the same place (windows on the frame grid)."""
    hop_length = frontend.config.hop_length
    whole = frontend(x)
    first, last = frontend.inside(windows[0][2].size) if windows else (0, 0)
    for start, features, samples in windows:
        np.testing.assert_array_equal(features, frontend(samples))
        if start % hop_length == 0 and start + samples.size <= x.size:
            base = start // hop_length
            np.testing.assert_array_equal(features[:, first:last], whole[:, base + first:base + last])


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("chunk", [1, 160, 511, 1024, 4096, 44100, 10**7])
def test_windowed_features_in_chunks_equal_batch_exactly(profile: str, chunk: int) -> None:
    cfg = PROFILES[profile]
    window, hop = 12 * cfg.hop_length, 3 * cfg.hop_length
    x = _scene_like(cfg.sample_rate, 1.3)[:None if chunk > 1 else 2 * window + 100]  # one sample a push: short
    frontend = LogMelFrontend(cfg)
    windows = _windowed(frontend, x, window, hop, [chunk] * (x.size // chunk + 1))
    assert len(windows) >= 3
    _assert_windowed_equals_batch(frontend, x, windows)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=40), n=st.integers(0, 20000),
       hop_frames=st.sampled_from([1, 2, 5, 2.5]))
def test_random_chunk_sizes_equal_batch(sizes: list[int], n: int, hop_frames: float) -> None:
    cfg = PROFILES["small"]
    x = _scene_like(cfg.sample_rate, 2.0)[:n]
    frontend = LogMelFrontend(cfg)
    windows = _windowed(frontend, x, 10 * cfg.hop_length, int(hop_frames * cfg.hop_length), sizes)
    _assert_windowed_equals_batch(frontend, x, windows)


def test_inside_frames_equal_the_batch_frames() -> None:
    cfg = PROFILES["small"]
    x = _scene_like(cfg.sample_rate, 0.5)
    frontend = LogMelFrontend(cfg)
    first, last = frontend.inside(x.size)
    assert 0 < first < last < cfg.n_frames(x.size)
    np.testing.assert_array_equal(frontend.inside_frames(x, first, last), frontend(x)[:, first:last])
    np.testing.assert_array_equal(frontend.padded_frames(x, 0, first), frontend(x)[:, :first])


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
