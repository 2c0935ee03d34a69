"""A folder per label: ``DIR/<label>/**/*.wav|flac|ogg``, any rate, channels and length.

Each recording is cut into clips of the model's window every ``hop`` (the runtime's rule, audio/windows.py); a
recording shorter than the window is looped to fill it, one shorter than the runtime's minimum is skipped and
counted. The folder named ``_background`` (or the one given as the background folder) holds audio that is none
of the scenes: its label is ``background``. An optional ``DIR/devices.csv`` (``file,device``) names the device of
some or all recordings, the others are ``unknown``; or the folder level below each label does
(``device_folders``, data/folder_devices.py). Which recordings evaluate is decided per recording
(data/folder_split.py), so that no clip of one file is in both splits.

Refused with one line (:class:`DataError`): a label folder with no audio, fewer than two labels, a label name
the model card refuses, audio lying directly in DIR, an unreadable file, the same audio twice (a symbolic or
hard link, or a copy). Skipped with a count: files that are not audio by their suffix, recordings too short,
folders whose names start with ``_`` or ``.`` other than the background folder (``_meta/``, ``.asc-cache/``: notes
and caches beside the labels, never labels themselves).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from asc_edge.audio.io import probe_audio
from asc_edge.audio.resample import unsupported_rate
from asc_edge.audio.windows import MIN_CLIP_SECONDS, window_starts
from asc_edge.data.folder_devices import (
    DEVICE_FOLDERS,
    DEVICES_CSV,
    UNKNOWN_DEVICE,
    devices_from_folders,
    read_devices_csv,
)
from asc_edge.modelfile.card import label_problem
from asc_edge.plumbing.errors import AudioError, DataError
from asc_edge.plumbing.file_digest import sha256_file

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
BACKGROUND_FOLDER = "_background"
BACKGROUND_LABEL = "background"


@dataclass(frozen=True)
class Recording:
    """One audio file: its name relative to DIR (``label/.../file.wav``), label, device and length."""

    name: str
    label: str
    device: str
    samples: int  # at the frontend's sample rate


@dataclass(frozen=True)
class WindowClip:
    """One window of a recording; ``filename`` is its unique key in the feature cache."""

    filename: str
    scene: str  # the label (named like the TAU clip's field, which the training code reads)
    device: str
    recording: str
    start: int
    length: int

    @property
    def identifier(self) -> str:
        return self.recording


@dataclass(frozen=True)
class Scan:
    """The recordings of a folder-per-label tree and what was left out of it."""

    recordings: tuple[Recording, ...]
    labels: tuple[str, ...]
    skipped_not_audio: int
    skipped_short: int
    device_source: str  # DEVICES_CSV, DEVICE_FOLDERS, or "" when no device is known
    skipped_folders: int = 0  # folders starting with _ or . (other than the background one): not labels


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def not_a_label(name: str, background: str = BACKGROUND_FOLDER) -> bool:
    """A folder beside the labels that is no label: hidden (``.asc-cache``) or marked with a leading ``_``
    (``_meta/`` holding a README), except the background folder."""
    return name != background and name.startswith(("_", "."))


def _label_folders(root: Path, background: str) -> tuple[dict[str, Path], int]:
    """``({label: folder}, folders skipped as not labels)``."""
    folders: dict[str, Path] = {}
    skipped = 0
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") and not entry.is_dir():
            continue  # hidden files (.DS_Store) are nobody's data: not even counted
        if entry.is_file() and entry.suffix.lower() in AUDIO_SUFFIXES:
            raise DataError(f"{entry}: audio directly in {root}, which has no meta.csv (not a TAU folder), so it "
                            f"is read as a folder per label: put each file in a folder named by its label "
                            f"({root}/<label>/...)")
        if not entry.is_dir():
            continue
        if not_a_label(entry.name, background):
            skipped += 1
            continue
        label = BACKGROUND_LABEL if entry.name == background else entry.name
        problem = label_problem([label])
        if problem:
            raise DataError(f"{entry}: the folder name is not a usable label: the model card's labels {problem}")
        if label in folders:
            raise DataError(f"{entry} and {folders[label]} both give the label {label!r}; rename one")
        folders[label] = entry
    if background != BACKGROUND_FOLDER and BACKGROUND_LABEL not in folders:
        raise DataError(f"{root}: no folder named {background!r} (--background-label)")
    if len(folders) < 2:
        found = ", ".join(folders) or "none"
        raise DataError(f"{root}: a classifier needs at least two label folders ({root}/<label>/...); found {found}")
    return folders, skipped


def _audio_files(folder: Path, root: Path) -> tuple[list[Path], int]:
    files = sorted(p for p in folder.rglob("*") if not _hidden(p, root) and p.is_file())
    audio = [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
    if not audio:
        raise DataError(f"{folder}: the label folder holds no audio ({', '.join(AUDIO_SUFFIXES)})")
    return audio, len(files) - len(audio)


def refuse_duplicates(paths: list[Path]) -> None:
    """The same audio twice would sit in training and evaluation at once: a link (symbolic or hard) to another
    file of the set, or a byte-identical copy, is refused naming both files."""
    seen_inode: dict[tuple[int, int], Path] = {}
    by_size: dict[int, list[Path]] = defaultdict(list)
    for path in paths:
        stat = path.stat()
        key = (stat.st_dev, stat.st_ino)
        if key in seen_inode:
            raise DataError(f"{path} and {seen_inode[key]} are the same file (a symbolic or hard link); "
                            "keep one of them")
        seen_inode[key] = path
        by_size[stat.st_size].append(path)
    for same_size in by_size.values():
        if len(same_size) < 2:
            continue
        seen_digest: dict[str, Path] = {}
        for path in same_size:
            digest = sha256_file(path)
            if digest in seen_digest:
                raise DataError(f"{path} and {seen_digest[digest]} hold identical audio (a copy); keep one of them")
            seen_digest[digest] = path


def _length_at(path: Path, sample_rate: int) -> int:
    try:
        info = probe_audio(path)
    except AudioError as exc:
        raise DataError(str(exc)) from None
    if info.frames <= 0:
        raise DataError(f"{path}: the file holds no audio samples")
    problem = unsupported_rate(info.sample_rate, sample_rate)
    if problem:
        raise DataError(f"{path}: {problem}")
    return math.ceil(info.frames * sample_rate / info.sample_rate)  # the resampler's output length


@dataclass(frozen=True)
class Listing:
    """The audio files of a folder-per-label tree with their labels and devices, before any file is opened."""

    files: tuple[tuple[Path, str], ...]  # (path, label), in label then name order
    labels: tuple[str, ...]
    devices: dict[str, str]  # {name relative to the root: device}; absent: unknown
    device_source: str  # DEVICES_CSV, DEVICE_FOLDERS, or ""
    skipped_not_audio: int
    skipped_folders: int  # folders starting with _ or . (other than the background one): not labels


def list_folders(root: Path, background: str = BACKGROUND_FOLDER, device_folders: bool = False) -> Listing:
    """Labels, audio files and devices of ``root``; no audio is read (``asc-eval`` scores what it can read and
    names the rest, training refuses an unreadable file: :func:`scan_folders`)."""
    folders, skipped_folders = _label_folders(root, background)
    found: list[tuple[Path, str]] = []
    skipped_not_audio = sum(1 for p in root.iterdir() if p.is_file() and not p.name.startswith(".")
                            and p.name != DEVICES_CSV and p.suffix.lower() not in AUDIO_SUFFIXES)
    for label, folder in folders.items():
        audio, not_audio = _audio_files(folder, root)
        skipped_not_audio += not_audio
        found += [(path, label) for path in audio]
    names = {path.relative_to(root).as_posix() for path, _ in found}
    if device_folders:
        devices, device_source = devices_from_folders(root, names), DEVICE_FOLDERS
    else:
        devices = read_devices_csv(root, names)
        device_source = DEVICES_CSV if devices else ""
    return Listing(files=tuple(found), labels=tuple(sorted(folders)), devices=devices, device_source=device_source,
                   skipped_not_audio=skipped_not_audio, skipped_folders=skipped_folders)


def scan_folders(root: Path, sample_rate: int, background: str = BACKGROUND_FOLDER,
                 device_folders: bool = False) -> Scan:
    """Every recording of ``root`` with its label, device and length at ``sample_rate``; refusals as DataError.
    ``device_folders``: the folder below each label names the device, instead of an optional devices.csv."""
    listing = list_folders(root, background, device_folders)
    found, devices = list(listing.files), listing.devices
    refuse_duplicates([path for path, _ in found])
    minimum = math.ceil(MIN_CLIP_SECONDS * sample_rate)
    recordings, short = [], 0
    for path, label in found:
        samples = _length_at(path, sample_rate)
        if samples < minimum:
            short += 1
            continue
        name = path.relative_to(root).as_posix()
        recordings.append(Recording(name=name, label=label, device=devices.get(name, UNKNOWN_DEVICE),
                                    samples=samples))
    usable = {r.label for r in recordings}
    for label in listing.labels:
        if label not in usable:
            folder = root / (background if label == BACKGROUND_LABEL else label)
            raise DataError(f"{folder}: every recording is shorter than {MIN_CLIP_SECONDS:g} s "
                            "(the runtime's minimum)")
    return Scan(recordings=tuple(recordings), labels=listing.labels, skipped_not_audio=listing.skipped_not_audio,
                skipped_short=short, device_source=listing.device_source, skipped_folders=listing.skipped_folders)


def windows_of(recording: Recording, window: int, hop: int) -> list[WindowClip]:
    """The clips of one recording: every ``hop`` samples while a window fits (audio/windows.py's rule)."""
    return [WindowClip(filename=f"{recording.name}@{start}+{window}", scene=recording.label,
                       device=recording.device, recording=recording.name, start=start, length=window)
            for start in window_starts(recording.samples, window, hop)]

