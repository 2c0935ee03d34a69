import numpy as np
import pytest

from asc_edge.audio.io import decode_audio, read_audio
from asc_edge.plumbing.errors import AscEdgeError, AudioError


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(("name", "subtype"), [("a.wav", "PCM_16"), ("b.wav", "PCM_24"), ("c.wav", "PCM_32"),
                                              ("d.wav", "FLOAT"), ("e.flac", "PCM_16"), ("f.ogg", "VORBIS")])
def test_reads_int_and_float_pcm_and_compressed_formats(write_wav, name: str, subtype: str) -> None:
    tone = _tone(16000)
    clip = read_audio(write_wav(name, tone, 16000, subtype))
    assert clip.samples.dtype == np.float32 and clip.sample_rate == 16000
    tolerance = 0.05 if subtype == "VORBIS" else 1e-3
    assert np.sqrt(np.mean((clip.samples[:tone.size] - tone) ** 2)) < tolerance


def test_resamples_to_requested_rate(write_wav) -> None:
    clip = read_audio(write_wav("t.wav", _tone(44100, 1.0), 44100), target_rate=16000)
    assert clip.sample_rate == 16000 and clip.source_rate == 44100 and clip.samples.size == 16000
    spectrum = np.abs(np.fft.rfft(clip.samples))
    assert np.argmax(spectrum) == 440  # 1 Hz bins for a 1 s signal


def test_stereo_is_downmixed(write_wav) -> None:
    left, right = _tone(16000), -0.5 * _tone(16000)
    clip = read_audio(write_wav("s.wav", np.stack([left, right], axis=1), 16000, "FLOAT"))
    assert clip.source_channels == 2
    np.testing.assert_allclose(clip.samples, (left + right) / 2, atol=1e-6)


def test_integer_pcm_arrays_are_scaled() -> None:
    pcm = np.array([0, 16384, -32768], dtype=np.int16)
    clip = decode_audio(pcm, 16000, None, "pcm")
    np.testing.assert_allclose(clip.samples, [0.0, 0.5, -1.0])


def test_missing_file(tmp_path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "nope.wav")


def test_folder_is_not_a_file(tmp_path) -> None:
    with pytest.raises(AudioError, match="is a folder"):
        read_audio(tmp_path)


def test_text_file_is_not_audio(tmp_path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n")
    with pytest.raises(AudioError, match="not a readable audio file"):
        read_audio(path)


def test_truncated_wav_is_reported(write_wav) -> None:
    path = write_wav("cut.wav", _tone(16000), 16000)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError):
        read_audio(path)


def test_empty_wav(write_wav) -> None:
    with pytest.raises(AudioError, match="no audio samples"):
        read_audio(write_wav("empty.wav", np.zeros(0, dtype=np.float32), 16000))


def test_all_nan_wav(write_wav) -> None:
    with pytest.raises(AudioError, match="NaN or infinite"):
        read_audio(write_wav("nan.wav", np.full(100, np.nan, dtype=np.float32), 16000, "FLOAT"))


def test_too_short(write_wav) -> None:
    path = write_wav("short.wav", _tone(16000, 0.25), 16000)
    with pytest.raises(AudioError, match="shorter than the 1 s required"):
        read_audio(path, min_seconds=1.0)
    assert read_audio(path, min_seconds=0.25).seconds == pytest.approx(0.25)


def test_audio_error_is_the_library_base_class() -> None:
    assert issubclass(AudioError, AscEdgeError)
    # one line, naming the file
    try:
        read_audio("/definitely/missing.wav")
    except AudioError as exc:
        assert "\n" not in str(exc) and "/definitely/missing.wav" in str(exc)
