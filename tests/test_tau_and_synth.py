import hashlib
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import soundfile

from asc_edge.data.features import default_cache_root
from asc_edge.data.synth.generate import generate_dataset
from asc_edge.data.tau import load_tau
from asc_edge.plumbing.errors import DataError
from conftest import TINY
from tau_layout_checker import check_tau_layout


def test_independent_checker_passes_on_asc_synth_output(tiny_synth: Path) -> None:
    assert check_tau_layout(tiny_synth) == []


def test_reader_loads_synth_and_exposes_fields(tiny_synth: Path) -> None:
    ds = load_tau(tiny_synth)
    assert len(ds.train) + len(ds.evaluate) == len(ds.clips)
    clip = ds.train[0]
    assert clip.identifier == f"{clip.city}-{clip.location}"
    assert ds.path(clip).is_file()
    groups = ds.parallel_groups()
    assert groups and all("a" in devices for devices in groups.values())
    # every evaluate segment is recorded by all nine devices
    assert all(len(d) == 9 for d in ds.parallel_groups(ds.evaluate).values())
    info = soundfile.info(str(ds.path(clip)))
    assert info.samplerate == TINY["sample_rate"] and info.channels == 1
    assert info.frames == int(TINY["duration"] * TINY["sample_rate"])


def test_device_imbalance_and_unseen_devices(tiny_synth: Path) -> None:
    ds = load_tau(tiny_synth)
    train = Counter(c.device for c in ds.train)
    evaluate = Counter(c.device for c in ds.evaluate)
    assert set(train) == {"a", "b", "c", "s1", "s2", "s3"}
    assert all(train["a"] >= 5 * train[d] for d in ("b", "c", "s1", "s2", "s3"))
    assert len(set(evaluate.values())) == 1 and set(evaluate) >= {"s4", "s5", "s6"}
    assert {c.scene for c in ds.train} == {c.scene for c in ds.evaluate} and len({c.scene for c in ds.train}) == 10


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".asc-cache" not in p.parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_deterministic_for_a_seed(tmp_path: Path, tiny_synth: Path) -> None:
    again = tmp_path / "again"
    generate_dataset(again, progress=False, workers=2, **TINY)
    assert _tree_digest(again) == _tree_digest(tiny_synth)
    other = tmp_path / "other"
    generate_dataset(other, progress=False, **{**TINY, "seed": TINY["seed"] + 1})
    assert _tree_digest(other) != _tree_digest(tiny_synth)


def test_refuses_non_empty_target_and_overwrites_on_request(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(DataError, match="--overwrite"):
        generate_dataset(target, progress=False, **TINY)
    assert (target / "keep.txt").read_text() == "precious"
    generate_dataset(target, progress=False, overwrite=True, **TINY)
    assert not (target / "keep.txt").exists() and check_tau_layout(target) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp folders left behind


def test_bad_arguments_leave_nothing(tmp_path: Path) -> None:
    for kwargs in ({"clips_per_class": 2}, {"duration": 0.0}, {"sample_rate": 100}):
        with pytest.raises(DataError):
            generate_dataset(tmp_path / "x", progress=False, **{**TINY, **kwargs})
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def synth_copy(tiny_synth: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_synth, copy, ignore=shutil.ignore_patterns(".asc-cache"))
    return copy


def _edit_meta(root: Path, old: str, new: str, count: int = 1) -> None:
    meta = root / "meta.csv"
    meta.write_text(meta.read_text().replace(old, new, count))


def test_missing_column(synth_copy: Path) -> None:
    _edit_meta(synth_copy, "source_label", "device")
    with pytest.raises(DataError, match="meta.csv: header lacks column.*source_label"):
        load_tau(synth_copy)


def test_unknown_device(synth_copy: Path) -> None:
    _edit_meta(synth_copy, "\ta\n", "\tzz\n")
    with pytest.raises(DataError, match=r"meta.csv line \d+: unknown device 'zz'"):
        load_tau(synth_copy)


def test_listed_file_absent(synth_copy: Path) -> None:
    victim = sorted((synth_copy / "audio").iterdir())[5]
    victim.unlink()
    with pytest.raises(DataError, match=f"lists 'audio/{victim.name}', which does not exist"):
        load_tau(synth_copy)


def test_missing_split_and_missing_folder(synth_copy: Path, tmp_path: Path) -> None:
    (synth_copy / "evaluation_setup" / "fold1_evaluate.csv").unlink()
    with pytest.raises(DataError, match="fold1_evaluate.csv: missing"):
        load_tau(synth_copy)
    with pytest.raises(DataError, match="no such folder"):
        load_tau(tmp_path / "absent")


def test_split_naming_unknown_file(synth_copy: Path) -> None:
    split = synth_copy / "evaluation_setup" / "fold1_train.csv"
    split.write_text(split.read_text() + "audio/bus-nowhere-1-1-a.wav\tbus\n")
    with pytest.raises(DataError, match="is not in meta.csv"):
        load_tau(synth_copy)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300)


def test_cli_bad_meta_is_one_line_exit_2(synth_copy: Path) -> None:
    _edit_meta(synth_copy, "\ta\n", "\tzz\n")
    result = _run("asc_edge.data.features_cli", str(synth_copy), "--frontend", "small", "--quiet")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown device 'zz'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not default_cache_root(synth_copy).exists()


def test_cli_asc_synth_refuses_non_empty_target(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = _run("asc_edge.data.synth.cli", str(tmp_path), "--clips-per-class", "4", "--duration", "1")
    assert result.returncode == 2 and "not empty" in result.stderr and "Traceback" not in result.stderr


def test_cli_asc_synth_then_asc_features(tmp_path: Path) -> None:
    out = tmp_path / "set"
    made = _run("asc_edge.data.synth.cli", str(out), "--clips-per-class", "4", "--duration", "1",
                "--sample-rate", "16000", "--quiet")
    assert made.returncode == 0, made.stderr
    assert "train" in made.stdout and "evaluate" in made.stdout
    summary = _run("asc_edge.data.features_cli", str(out), "--frontend", "small", "--quiet")
    assert summary.returncode == 0, summary.stderr
    assert "40 mels x 32 frames" in summary.stdout and "shared 0" in summary.stdout
    again = _run("asc_edge.data.features_cli", str(out), "--frontend", "small", "--quiet")
    assert "reused" in again.stdout
