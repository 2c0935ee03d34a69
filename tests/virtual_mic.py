"""A real virtual microphone for tests: PulseAudio with a pipe source, fed raw s16le from a thread at
real-time pace (recipe: docs/toolchain.md). PortAudio sees it as the 'pulse' device."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

RATE = 16_000
F_SETPIPE_SZ = 1031


class VirtualMic:
    def __init__(self, root: Path) -> None:
        self.root = root
        runtime, home = root / "run", root / "home"
        for folder in (runtime, home):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fifo = root / "vmic.fifo"  # module-pipe-source creates it
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(home), "PULSE_SOURCE": "vmic"}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        subprocess.run(["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--load=module-native-protocol-unix",
                        f"--load=module-pipe-source source_name=vmic file={self.fifo} format=s16le "
                        f"rate={RATE} channels=1"], env=self.env, check=True, timeout=30, capture_output=True)
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode != 0 \
                or not self.fifo.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("pulseaudio did not answer within 10 s")
            time.sleep(0.05)

    def feed(self, audio: np.ndarray | None) -> None:
        """Write ``audio`` (float, 16 kHz mono) then silence, paced in real time, until :meth:`stop_feed`.
        ``None`` writes nothing at all (a microphone that never delivers)."""
        self.stop_feed()
        self._stop.clear()
        if audio is None:
            return
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()

        def run() -> None:
            try:
                feed_pipe()
            except BrokenPipeError:
                pass  # the server went away (closing): nothing left to feed

        def feed_pipe() -> None:
            fd = os.open(self.fifo, os.O_WRONLY)
            with os.fdopen(fd, "wb", buffering=0) as pipe:
                try:
                    fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)  # no backlog burst
                except OSError:
                    pass  # some kernels refuse; pacing still holds
                chunk, start, sent = 640, time.monotonic(), 0  # 20 ms of s16le mono
                silence = bytes(chunk)
                while not self._stop.is_set():
                    data = pcm[sent:sent + chunk] if sent < len(pcm) else silence
                    data += bytes(chunk - len(data))
                    pipe.write(data)
                    sent += chunk
                    ahead = start + sent / (2 * RATE) - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop_feed(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop_feed()
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True, timeout=10)


def available() -> str | None:
    """None when the virtual microphone can run here, else the reason it cannot."""
    missing = [tool for tool in ("pulseaudio", "pactl") if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not installed (apt install pulseaudio pulseaudio-utils libportaudio2 "
                f"libasound2-plugins; .ci/run does)")
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        return f"PortAudio missing: {exc}"
    return None
