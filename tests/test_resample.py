import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from asc_edge.audio.resample import resample

RATE_PAIRS = [(44100, 16000), (48000, 44100), (16000, 44100), (22050, 44100), (8000, 16000), (44100, 48000),
              (32000, 16000)]


@pytest.mark.parametrize(("source", "target"), RATE_PAIRS)
def test_matches_scipy_resample_poly(source: int, target: int) -> None:
    x = np.random.default_rng(source + target).standard_normal(source // 3)
    ours = resample(x, source, target)
    reference = scipy.signal.resample_poly(x, target, source)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3000), pair=st.sampled_from(RATE_PAIRS))
def test_any_length_matches_scipy(n: int, pair: tuple[int, int]) -> None:
    source, target = pair
    x = np.random.default_rng(n).uniform(-1, 1, n)
    np.testing.assert_allclose(resample(x, source, target), scipy.signal.resample_poly(x, target, source),
                               atol=1e-6)


def test_tone_survives_and_alias_is_removed() -> None:
    t = np.arange(48000) / 48000
    in_band = np.sin(2 * np.pi * 1000 * t)
    above_nyquist = np.sin(2 * np.pi * 12000 * t)  # above the 8 kHz Nyquist of the 16 kHz output
    y_in = resample(in_band, 48000, 16000)[1000:-1000]
    y_out = resample(above_nyquist, 48000, 16000)[1000:-1000]
    assert np.sqrt(np.mean(y_in ** 2)) == pytest.approx(np.sqrt(0.5), rel=1e-3)
    assert np.sqrt(np.mean(y_out ** 2)) < 1e-3


def test_same_rate_is_identity_and_bad_rates_raise() -> None:
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ValueError):
        resample(x, 0, 16000)
