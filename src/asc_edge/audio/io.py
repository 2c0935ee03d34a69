"""Reading audio files: WAV/FLAC/OGG through soundfile, downmixed to mono, resampled to the model rate.

``read_audio`` decodes a whole file (the training data layer's clips). ``open_audio`` reads a file or standard
input in blocks (the runtime's path), so memory does not grow with the input's length; its blocks, downmixed
and fed to ``StreamingResampler``, give the same samples as ``read_audio`` bit for bit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asc_edge.audio.resample import resample, unsupported_rate
from asc_edge.plumbing.errors import AudioError


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1] at ``sample_rate``, with the rate the file was stored at."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


def _soundfile():
    # Imported lazily so that `import asc_edge.audio` works (and fails clearly) without libsndfile.
    try:
        import soundfile
    except (ImportError, OSError) as exc:  # OSError: the libsndfile shared library is missing
        raise AudioError(f"reading audio needs the 'soundfile' package with libsndfile ({exc})") from exc
    return soundfile


def _downmix(samples: np.ndarray) -> np.ndarray:
    """The mean of the channels in float64; a float32 mono file is returned as it is (the same values: float32
    -> float64 -> float32 is exact), without a float64 copy of the whole file."""
    if samples.shape[1] == 1 and samples.dtype == np.float32:
        return samples[:, 0]
    return samples.mean(axis=1, dtype=np.float64)


def decode_audio(data: np.ndarray, source_rate: int, target_rate: int | None, name: str,
                 min_seconds: float = 0.0) -> AudioClip:
    """Validate, downmix and resample decoded samples (frames x channels or 1-D)."""
    samples = np.asarray(data)
    if samples.ndim == 1:
        samples = samples[:, None]
    channels = samples.shape[1]
    if samples.shape[0] == 0:
        raise AudioError(f"{name}: the file holds no audio samples")
    if np.issubdtype(samples.dtype, np.integer):
        # soundfile normally returns floats; integer arrays come from library users passing raw PCM.
        scale = float(np.iinfo(samples.dtype).max) + 1.0
        samples = samples.astype(np.float64) / scale
    finite = np.isfinite(samples)
    if not finite.any():
        raise AudioError(f"{name}: every sample is NaN or infinite")
    if not finite.all():
        raise AudioError(f"{name}: {int((~finite).sum())} samples are NaN or infinite")
    mono = _downmix(samples)
    rate = int(target_rate) if target_rate else int(source_rate)
    if rate != source_rate:
        problem = unsupported_rate(int(source_rate), rate)
        if problem:
            raise AudioError(f"{name}: {problem}")
        mono = resample(mono, int(source_rate), rate)
    mono = np.asarray(mono, dtype=np.float32)
    clip = AudioClip(samples=mono, sample_rate=rate, source_rate=int(source_rate), source_channels=channels)
    if clip.seconds < min_seconds:
        raise AudioError(f"{name}: {clip.seconds:.3f} s of audio, shorter than the {min_seconds:g} s required")
    return clip


def _existing_file(path: str | Path) -> Path:
    """``path`` as a Path, or one-line :class:`AudioError` when it is missing or a folder.

    Callers open it as ``os.fsencode(path)``: soundfile encodes a str strictly, so a name that is not UTF-8
    (kept by Python as surrogate escapes) would fail; the bytes are exactly what the file system has.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    return path


def read_audio(path: str | Path, target_rate: int | None = None, min_seconds: float = 0.0) -> AudioClip:
    """Read an audio file as mono float32, resampled to ``target_rate`` (kept as stored when None).

    Raises :class:`AudioError` with a one-line message for a missing file, a file that is not audio, an
    empty or all-NaN/inf file, or one shorter than ``min_seconds``.
    """
    path = _existing_file(path)
    sf = _soundfile()
    try:
        data, rate = sf.read(os.fsencode(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, ValueError, OSError) as exc:  # truncated or malformed containers
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc
    return decode_audio(data, rate, target_rate, str(path), min_seconds)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says: its length in frames, rate and channels (no samples decoded)."""

    frames: int
    sample_rate: int
    channels: int


def probe_audio(path: str | Path) -> AudioInfo:
    """The header of an audio file, or one-line :class:`AudioError` for a file that is not readable audio."""
    path = _existing_file(path)
    sf = _soundfile()
    try:
        info = sf.info(os.fsencode(path))
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, ValueError, OSError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc
    return AudioInfo(frames=int(info.frames), sample_rate=int(info.samplerate), channels=int(info.channels))


# First bytes of the containers soundfile reads; anything else on standard input is refused at once (a
# stream of zeros or text is never read to its end).
_MAGIC = {b"RIFF": "wav", b"RIFX": "wav", b"RF64": "wav", b"FORM": "aiff", b"fLaC": "flac", b"OggS": "ogg",
          b".snd": "au", b"caff": "caf"}
STREAMABLE = {"wav", "au"}  # libsndfile reads these from a pipe; the others need seeking


class AudioReader:
    """An open audio source read in blocks: ``rate``, ``channels``, and ``blocks(n)`` of mono samples (the
    downmix ``read_audio`` computes: float32 for mono sources, float64 means of several channels). Checks as
    it goes: NaN/inf samples raise :class:`AudioError`."""

    def __init__(self, name: str, handle, cleanup=None) -> None:
        self.name = name
        self._file = handle
        self._cleanup = cleanup
        self.rate = int(handle.samplerate)
        self.channels = int(handle.channels)

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def check_rate(self, target_rate: int) -> None:
        problem = unsupported_rate(self.rate, int(target_rate))
        if problem:
            raise AudioError(f"{self.name}: {problem}")

    def blocks(self, frames: int = 65536):
        """Mono blocks of at most ``frames`` samples until the end of the source."""
        sf = _soundfile()
        seen = 0
        while True:
            try:
                data = self._file.read(frames, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as exc:
                raise AudioError(f"{self.name}: unreadable audio after {seen} samples ({exc})") from exc
            if data.shape[0] == 0:
                if seen == 0:
                    raise AudioError(f"{self.name}: the file holds no audio samples")
                return
            finite = np.isfinite(data)
            if not finite.all():
                first = int(np.argmin(finite.all(axis=1)))
                raise AudioError(f"{self.name}: samples are NaN or infinite (the first at "
                                 f"{(seen + first) / self.rate:.3f} s)")
            seen += data.shape[0]
            yield _downmix(data)


def open_audio(path: str | Path) -> AudioReader:
    """Open an audio file for block reading; one-line :class:`AudioError` for anything that is not audio."""
    path = _existing_file(path)
    sf = _soundfile()
    try:
        return AudioReader(str(path), sf.SoundFile(os.fsencode(path)))
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, ValueError, OSError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc


def open_stdin(stream=None) -> AudioReader:
    """Standard input as a block reader, in bounded memory.

    A redirected file is read in place. From a pipe, the first four bytes name the container: unknown ones
    are refused at once; WAV/AU is relayed (with those bytes) through a new pipe that libsndfile reads
    sequentially; FLAC/OGG/AIFF need seeking, so they are first copied to a temporary file in 1 MB pieces
    (disk, not memory)."""
    import os
    import stat
    import tempfile
    import threading

    sf = _soundfile()
    stream = stream if stream is not None else sys.stdin.buffer
    fd = stream.fileno()

    def _open(target, cleanup=None) -> AudioReader:
        try:
            return AudioReader("stdin", sf.SoundFile(target, closefd=isinstance(target, int) and target != fd),
                               cleanup)
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as exc:
            if cleanup is not None:
                cleanup()
            raise AudioError(f"stdin: not a readable audio stream ({exc})") from exc

    if stat.S_ISREG(os.fstat(fd).st_mode):
        if os.fstat(fd).st_size - os.lseek(fd, 0, os.SEEK_CUR) <= 0:
            raise AudioError("stdin: no data (pipe a WAV file into 'asc-listen -')")
        return _open(fd)
    head = b""
    while len(head) < 4:
        piece = os.read(fd, 4 - len(head))
        if not piece:
            break
        head += piece
    if not head:
        raise AudioError("stdin: no data (pipe a WAV file into 'asc-listen -')")
    kind = _MAGIC.get(head[:4])
    if kind is None:
        raise AudioError(f"stdin: not an audio stream (it starts with bytes {head[:4].hex(' ')}; expected WAV, "
                         f"FLAC, OGG, AIFF or AU)")
    if kind in STREAMABLE:
        read_end, write_end = os.pipe()

        def relay() -> None:
            try:
                os.write(write_end, head)
                while True:
                    piece = os.read(fd, 1 << 16)
                    if not piece:
                        break
                    os.write(write_end, piece)
            except OSError:
                pass  # the reader closed its end (refused or finished early)
            finally:
                os.close(write_end)

        threading.Thread(target=relay, daemon=True).start()
        return _open(read_end)
    spool = tempfile.TemporaryFile(prefix="asc-stdin-")
    spool.write(head)
    while True:
        piece = os.read(fd, 1 << 20)
        if not piece:
            break
        spool.write(piece)
    spool.seek(0)
    return _open(spool, spool.close)
