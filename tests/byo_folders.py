"""Builds a folder per label from real WAV/FLAC files written here: each label a tone pattern of its own over
noise, at odd rates, mono and stereo, long recordings (cut into several clips) and short ones, a background
folder of plain noise, optionally a devices.csv for some files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

# label -> its tone frequencies (Hz): distinct enough that a tiny model separates them in a few epochs
TONES = {"kitchen": (300.0, 900.0), "office": (1200.0,), "machine_room": (150.0, 2500.0)}
RATES = (16000, 22050, 44100, 11025)  # odd rates on purpose


def _signal(label: str, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = 0.05 * rng.standard_normal(t.size)
    if label == "_background":
        return 0.2 * rng.standard_normal(t.size)
    tones = sum(0.3 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28)) for f in TONES[label])
    return (tones + noise) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t)) ** 2


def write_recording(path: Path, label: str, seconds: float, rate: int, stereo: bool, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    mono = np.clip(_signal(label, seconds, rate, rng), -0.99, 0.99).astype(np.float32)
    data = np.stack([mono, 0.8 * mono], axis=1) if stereo else mono
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), data, rate, subtype="PCM_16")
    return path


def build_label_folders(root: Path, recordings_per_label: int = 4, background: bool = True,
                        devices: bool = False, seconds: float = 2.0) -> Path:
    """``root/<label>/...``: per label, recordings of ``seconds`` (one 3x as long, one of 1.2 s), some FLAC,
    some stereo, in a nested folder; ``devices``: a devices.csv naming the device of every other file."""
    labels = [*TONES, *(["_background"] if background else [])]
    rows = []
    for li, label in enumerate(labels):
        for i in range(recordings_per_label):
            length = seconds * 3 if i == 0 else 1.2 if i == 1 else seconds
            suffix = ".flac" if i % 2 else ".wav"
            sub = "day2/" if i == 2 else ""
            name = f"{label}/{sub}rec{i}{suffix}"
            write_recording(root / name, label, length, RATES[(li + i) % len(RATES)], stereo=i % 3 == 1,
                            seed=1000 * li + i)
            if devices and i % 2 == 0:
                rows.append(f"{name},{'pi' if i % 4 == 0 else 'phone'}")
    if devices:
        (root / "devices.csv").write_text("file,device\n" + "\n".join(rows) + "\n")
    return root
