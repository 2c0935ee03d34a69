"""``asc-listen --mic`` through PortAudio and sounddevice on a real (virtual) PulseAudio microphone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

import virtual_mic

pytestmark = pytest.mark.skipif(virtual_mic.available() is not None, reason=str(virtual_mic.available()))
LISTEN = [sys.executable, "-m", "asc_edge.runtime.listen_cli"]


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory):
    device = virtual_mic.VirtualMic(tmp_path_factory.mktemp("pulse"))
    device.start()
    yield device
    device.close()


@pytest.fixture(scope="module")
def scenes(tiny_synth: Path) -> np.ndarray:
    clips = [soundfile.read(p, dtype="float32")[0] for p in sorted((tiny_synth / "audio").glob("*-a.wav"))[::9][:6]]
    return np.concatenate(clips)


def test_mic_decisions_equal_file_mode_on_the_same_audio(mic, scenes: np.ndarray, tmp_path: Path) -> None:
    mic.feed(scenes)
    try:
        done = subprocess.run([*LISTEN, "--mic", "--device", "pulse", "--seconds", "9", "--hop", "1",
                               "--record", str(tmp_path / "heard.wav"), "--format", "jsonl",
                               "--out", str(tmp_path / "live.jsonl")], env=mic.env, capture_output=True, text=True,
                              timeout=60)
    finally:
        mic.stop_feed()
    assert done.returncode == 0, done.stderr
    assert "0 input overflows" in done.stderr and "decisions" in done.stderr
    live = [json.loads(line) for line in (tmp_path / "live.jsonl").read_text().splitlines()]
    heard, rate = soundfile.read(tmp_path / "heard.wav", dtype="float32")
    assert rate == 44100  # the device's native rate, resampled to the model's 16 kHz by us
    # The fed scenes really went through PulseAudio and PortAudio: the capture correlates with them.
    from asc_edge.audio.resample import resample

    template = resample(heard, rate, 16000)[16000:32000]  # 1 s heard after the listener started
    n = scenes.size + template.size
    cross = np.fft.irfft(np.fft.rfft(scenes, n) * np.conj(np.fft.rfft(template, n)), n)[:scenes.size - template.size]
    lag = int(np.argmax(cross))
    assert np.corrcoef(scenes[lag:lag + template.size], template)[0, 1] > 0.99
    offline = subprocess.run([*LISTEN, str(tmp_path / "heard.wav"), "--hop", "1", "--format", "jsonl"],
                             capture_output=True, text=True)
    windows = [json.loads(line) for line in offline.stdout.splitlines() if '"kind": "window"' in line]
    assert len(live) >= 4
    for decision in live:
        match = windows[decision["window"]]
        assert match["start"] == decision["start"]
        assert match["label"] == decision["label"]
        for label, p in decision["probabilities"].items():
            assert match["probabilities"][label] == pytest.approx(p, abs=1e-6)
        assert decision["latency_ms"] < 1000


def test_ctrl_c_stops_cleanly_with_a_summary(mic, scenes: np.ndarray) -> None:
    import signal

    mic.feed(scenes)
    try:
        child = subprocess.Popen([*LISTEN, "--mic", "--device", "pulse", "--hop", "0.5"], env=mic.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(7)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        mic.stop_feed()
    assert child.returncode == 0, err
    assert "Traceback" not in err and "(stopped by Ctrl-C)" in err and "input overflows" in err
    assert out.count("latency") >= 2  # live lines, one per decision


def test_a_silent_device_times_out_instead_of_hanging(mic) -> None:
    mic.feed(None)  # nothing writes to the pipe: the source delivers no data at all
    start = time.monotonic()
    done = subprocess.run([*LISTEN, "--mic", "--device", "pulse", "--timeout", "2", "--seconds", "30"],
                          env=mic.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("asc-listen: error: no audio from")
    assert time.monotonic() - start < 20


def test_unknown_device_and_no_devices_get_one_line(mic, tmp_path: Path) -> None:
    done = subprocess.run([*LISTEN, "--mic", "--device", "no-such-microphone"], env=mic.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "no usable input device no-such-microphone" in done.stderr
    # No reachable sound server and no sound card (this machine): PortAudio finds no input device at all.
    lonely = {**mic.env, "XDG_RUNTIME_DIR": str(tmp_path), "PULSE_SERVER": "unix:/nonexistent"}
    done = subprocess.run([*LISTEN, "--mic"], env=lonely, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    done = subprocess.run([*LISTEN, "--list-devices"], env=lonely, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no input devices" in done.stderr
