"""A folder per label (issue 25): detection, windows, the leak-free split, and every refusal as one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asc_edge.data.features import default_cache_root
from asc_edge.data.folder_dataset import FolderOptions, load_folders
from asc_edge.data.folder_split import read_split_csv
from asc_edge.data.layout import detect_layout
from asc_edge.plumbing.errors import DataError
from byo_folders import build_label_folders, write_recording

RATE = 16000


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: 3 scenes + background, 6 recordings each (one 6 s, one 1.2 s, nested, FLAC, stereo)."""
    return build_label_folders(tmp_path_factory.mktemp("byo") / "data", recordings_per_label=6, devices=True)


def _copy(folders: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(folders, target)
    return target


def test_layout_detected_and_recordings_cut_into_windows(folders: Path, tiny_synth: Path) -> None:
    assert detect_layout(tiny_synth) == "tau" and detect_layout(folders) == "folders"
    data = load_folders(folders, RATE, FolderOptions(window_s=2.0, hop_s=1.0))
    assert data.labels == ("background", "kitchen", "machine_room", "office")
    long = [c for c in data.clips if c.recording == "kitchen/rec0.wav"]  # 6 s, 2 s windows every 1 s
    assert [c.start for c in long] == [i * RATE for i in range(5)]
    assert len([c for c in data.clips if c.recording == "kitchen/rec1.flac"]) == 1  # 1.2 s: one looped window
    assert {c.device for c in data.clips} == {"pi", "phone", "unknown"}


def test_split_is_by_recording_stratified_and_seeded(folders: Path) -> None:
    data = load_folders(folders, RATE, FolderOptions(window_s=2.0, hop_s=0.5))
    train = {c.recording for c in data.train}
    evaluate = {c.recording for c in data.evaluate}
    assert train and evaluate and not train & evaluate  # no recording in both splits
    for label in data.labels:  # every label trains and evaluates
        assert any(c.scene == label for c in data.train) and any(c.scene == label for c in data.evaluate)
    assert load_folders(folders, RATE, FolderOptions(window_s=2.0)).split == data.split
    assert load_folders(folders, RATE, FolderOptions(window_s=2.0, split_seed=1)).split != data.split


def test_user_split_and_skipped_counts(folders: Path, tmp_path: Path) -> None:
    root = _copy(folders, tmp_path)
    (root / "office" / "notes.txt").write_text("not audio")
    write_recording(root / "office" / "blip.wav", "office", 0.5, RATE, stereo=False, seed=9)  # under 1 s
    split = tmp_path / "split.csv"
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.*") if p.suffix in (".wav", ".flac")
                   and p.name != "blip.wav")
    split.write_text("file,subset\n" + "".join(f"{n},{'evaluate' if 'rec5' in n else 'train'}\n" for n in names))
    data = load_folders(root, RATE, FolderOptions(window_s=2.0, split=str(split)))
    assert {c.recording for c in data.evaluate} == {n for n in names if "rec5" in n}
    assert data.scan.skipped_not_audio == 1 and data.scan.skipped_short == 1
    assert "1 non-audio file(s) skipped; 1 recording(s) under 1 s skipped" in data.summary_lines()[0]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1] / "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "asc_edge.data.features_cli", *args, "--quiet", "--frontend",
                           "small"], capture_output=True, text=True, env=env, timeout=300)


def _break(kind: str, root: Path, tmp_path: Path) -> list[str]:
    """Damage ``root`` one way; returns extra command-line arguments."""
    if kind == "empty label":
        (root / "attic").mkdir()
        (root / "attic" / "readme.txt").write_text("no audio here")
    elif kind == "single label":
        for folder in ("office", "machine_room", "_background"):
            shutil.rmtree(root / folder)
    elif kind == "corrupt file":
        (root / "office" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 3)
    elif kind == "bad label":
        (root / "kitchen").rename(root / "kit\x07chen")
    elif kind == "symlink":
        (root / "office" / "again.wav").symlink_to(root / "office" / "rec0.wav")
    elif kind == "hard link":
        os.link(root / "office" / "rec0.wav", root / "kitchen" / "same.wav")
    elif kind == "copy":
        shutil.copy(root / "office" / "rec0.wav", root / "office" / "copy.wav")
    elif kind == "audio at the top":
        shutil.copy(root / "office" / "rec0.wav", root / "loose.wav")
    elif kind == "device folders, a file beside them":
        (root / "devices.csv").unlink()
        return ["--device-folders"]
    elif kind == "device folders and devices.csv":
        return ["--device-folders"]
    elif kind in ("split names a missing file", "split puts a file in both"):
        split = tmp_path / "split.csv"
        second = "office/nothere.wav,evaluate" if "missing" in kind else "office/rec0.wav,evaluate"
        split.write_text(f"file,subset\noffice/rec0.wav,train\n{second}\n")
        return ["--split", str(split)]
    return []


REFUSALS = {
    "empty label": "holds no audio", "single label": "at least two label folders",
    "corrupt file": "not a readable audio file", "bad label": "not a usable label",
    "symlink": "same file", "hard link": "same file", "copy": "identical audio",
    "audio at the top": "audio directly in", "split names a missing file": "is not a recording",
    "split puts a file in both": "in both splits",
    "device folders, a file beside them": "lies directly in its label folder",
    "device folders and devices.csv": "devices are given twice",
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_bad_input_is_one_line_and_exit_2(kind: str, folders: Path, tmp_path: Path) -> None:
    root = _copy(folders, tmp_path)
    extra = _break(kind, root, tmp_path)
    done = _cli(str(root), *extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and REFUSALS[kind] in done.stderr, done.stderr
    assert not default_cache_root(root).exists() or not any(default_cache_root(root).iterdir())


def test_the_folder_below_each_label_names_the_device(folders: Path, tmp_path: Path) -> None:
    """``--device-folders``: DATA/<label>/<device>/... (nested folders below the device folder stay allowed)."""
    root = _copy(folders, tmp_path)
    (root / "devices.csv").unlink()
    expected = {}
    for path in sorted(p for p in root.rglob("rec*.*")):
        label_folder = root / path.relative_to(root).parts[0]
        device = "pi" if int(path.stem[3:]) % 2 == 0 else "phone"
        moved = label_folder / device / path.relative_to(label_folder)
        moved.parent.mkdir(parents=True, exist_ok=True)
        path.rename(moved)
        expected[moved.relative_to(root).as_posix()] = device
    data = load_folders(root, RATE, FolderOptions(window_s=2.0, device_folders=True))
    assert {c.recording: c.device for c in data.clips} == expected
    assert "  devices (the folder below each label): phone, pi" in data.summary_lines()
    assert any("/day2/" in name for name in expected)  # a deeper folder keeps its device
    without = load_folders(root, RATE, FolderOptions(window_s=2.0))
    assert {c.device for c in without.clips} == {"unknown"}  # the option, not the tree's shape, decides


def test_split_file_rows_checked(folders: Path, tmp_path: Path) -> None:
    split = tmp_path / "split.csv"
    split.write_text("file,subset\noffice/rec0.wav,holdout\n")
    data = load_folders(folders, RATE, FolderOptions(window_s=2.0))
    with pytest.raises(DataError, match="neither 'train' nor 'evaluate'"):
        read_split_csv(split, data.scan.recordings)


def test_underscore_and_dot_folders_are_not_labels(folders: Path, tmp_path: Path) -> None:
    """A ``_meta/`` folder of notes beside the labels once stopped training with "the label folder holds no
    audio": it is skipped and counted, and so is any other ``_``/``.`` folder; ``_background`` stays a label."""
    root = _copy(folders, tmp_path)
    (root / "_meta").mkdir()
    (root / "_meta" / "README.md").write_text("how these were recorded")
    (root / ".thumbnails").mkdir()
    data = load_folders(root, RATE, FolderOptions(window_s=2.0))
    assert data.labels == ("background", "kitchen", "machine_room", "office")
    assert data.scan.skipped_folders == 2
    assert "2 folder(s) starting with _ or . (not labels) skipped" in data.summary_lines()[0]
