"""Issue 29: groups that never straddle a split or a fold, fold files refused in one line, the tail-window rule,
and ``asc-train cv`` end to end (real WAV files written here, real training, export and LiteRT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asc_edge.audio.windows import TAIL_MIN_SHARE, window_starts
from asc_edge.data.folder_dataset import FolderOptions, load_folders
from asc_edge.data.folder_split import read_split_csv
from asc_edge.data.folders import scan_folders
from asc_edge.data.folds import fold_split, read_fold_csv, stratified_group_folds
from asc_edge.data.groups import group_of
from asc_edge.plumbing.errors import DataError
from byo_folders import write_recording

RATE = 16000
LABELS = ("kitchen", "office", "machine_room")


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ESC-style names: per label 4 sources x 2 takes (``<fold>-<source>-<take>.wav``), 2.1 s each, plus one
    recording with no take marker."""
    root = tmp_path_factory.mktemp("takes") / "data"
    for li, label in enumerate(LABELS):
        for source in range(4):
            for take in "AB":
                write_recording(root / label / f"{source + 1}-{100 * li + source}-{take}.wav", label, 2.1, RATE,
                                stereo=False, seed=li * 100 + source * 10 + ord(take))
        write_recording(root / label / "loose.wav", label, 2.1, RATE, stereo=False, seed=li)
    return root


def _groups_per_subset(split: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, subset in split.items():
        out.setdefault(group_of(name), set()).add(subset)
    return out


def test_default_group_rule_handles_takes_and_leaves_other_names_alone() -> None:
    assert group_of("dog_bark/1-187207-A.ogg") == group_of("rain/1-187207-B.ogg") == "1-187207"
    assert group_of("x/session-take3.wav") == group_of("x/session_take12.flac") == "session"
    assert group_of("x/rec_01.wav") == "x/rec_01.wav"  # numbers are not take letters: its own group
    assert group_of("x/1-5-A.wav", "file") == "x/1-5-A.wav"
    assert group_of("x/site3_2024-01-02.wav", r"(site\d+)_") == "site3"


@pytest.mark.parametrize("seed", range(5))
def test_seeded_split_never_puts_a_source_on_both_sides(takes: Path, seed: int) -> None:
    data = load_folders(takes, RATE, FolderOptions(window_s=2.0, split_seed=seed, evaluate_share=0.3))
    assert all(len(subsets) == 1 for subsets in _groups_per_subset(data.split).values())
    for label in LABELS:
        assert any(c.scene == label for c in data.train) and any(c.scene == label for c in data.evaluate)
    by_file = load_folders(takes, RATE, FolderOptions(window_s=2.0, split_seed=seed, group_by="file"))
    assert by_file.split  # the per-file rule still splits (takes may then straddle, as the user asked)


def test_split_file_with_a_source_on_both_sides_is_refused(takes: Path, tmp_path: Path) -> None:
    scan = scan_folders(takes, RATE)
    rows = ["file,subset"] + [f"{r.name},{'evaluate' if r.name.endswith('1-0-A.wav') else 'train'}"
                              for r in scan.recordings]
    split = tmp_path / "split.csv"
    split.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"group '1-0' is in two subsets"):
        read_split_csv(split, scan.recordings)
    assert read_split_csv(split, scan.recordings, "file")  # --group-by file: each recording alone
    # a group column overrides the rule: every file its own group
    split.write_text("file,subset,group\n" + "\n".join(f"{row},{i}" for i, row in enumerate(rows[1:])) + "\n")
    assert len(read_split_csv(split, scan.recordings)) == len(scan.recordings)


def _fold_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "folds.csv"
    path.write_text("file,fold\n" + "\n".join(rows) + "\n")
    return path


def test_fold_files_are_validated_with_one_line_refusals(takes: Path, tmp_path: Path) -> None:
    scan = scan_folders(takes, RATE)
    good = [f"{r.name},{int(Path(r.name).name[0]) if r.name[-5] in 'AB' else 1}" for r in scan.recordings]
    folds, groups = read_fold_csv(_fold_file(tmp_path, good), scan.recordings)
    assert sorted(set(folds.values())) == [1, 2, 3, 4] and len(folds) == len(scan.recordings)
    for rows, message in (
            (good + ["kitchen/nope.wav,2"], r"line 29: 'kitchen/nope.wav' is not a recording of the data folder"),
            ([r.replace(",4", ",5") for r in good], r"fold 4 has no recording \(folds 1, 2, 3, 5\)"),
            ([r if not r.startswith("office/2-101-B") else "office/2-101-B.wav,3" for r in good],
             r"group '2-101' is in two folds"),
            ([f"{r.split(',')[0]},1" for r in good], r"1 fold; cross-validation needs at least 2"),
            (good + [good[0]], r"is listed again, first on line 2"),
            ([good[0].replace(",1", ",zero")] + good[1:], r"fold 'zero' is not a whole number")):
        with pytest.raises(DataError, match=message) as caught:
            read_fold_csv(_fold_file(tmp_path, rows), scan.recordings)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize("k", (2, 4))
def test_made_folds_are_stratified_and_grouped(takes: Path, k: int) -> None:
    scan = scan_folders(takes, RATE)
    folds, groups = stratified_group_folds(scan.recordings, k, seed=1)
    assert set(folds.values()) == set(range(1, k + 1))
    for group in set(groups.values()):  # a source's takes share one fold
        assert len({folds[n] for n in groups if groups[n] == group}) == 1
    for fold in range(1, k + 1):  # every fold evaluates and trains every label
        split = fold_split(folds, fold)
        for label in LABELS:
            assert {split[r.name] for r in scan.recordings if r.label == label} == {"train", "evaluate"}
    with pytest.raises(DataError, match="label 'kitchen' has 5 source group"):
        stratified_group_folds(scan.recordings, 6)


def test_tail_window_only_when_it_analyses_real_audio() -> None:
    window = 79_872  # a 4.992 s window at 16 kHz
    assert window_starts(80_000, window, window) == [0]  # 5.0 s: 8 ms uncovered, no second clip
    assert window_starts(80_016, window, window) == [0]  # 5.001 s (was: windows at 0 and 0.009 s)
    just_over = window + int(TAIL_MIN_SHARE * window) + 1
    assert window_starts(just_over, window, window) == [0, just_over - window]
    assert window_starts(window + int(TAIL_MIN_SHARE * window), window, window) == [0]


def test_asc_train_cv_end_to_end_and_resumes(takes: Path, tmp_path: Path) -> None:
    run = tmp_path / "cv"
    command = [sys.executable, "-m", "asc_edge.recipe.asc_train", "cv", "--data", str(takes), "--out", str(run),
               "--folds", "2", "--preset", "tiny", "--frontend", "small", "--epochs", "2", "--qat-epochs", "1",
               "--window", "2", "--quiet", "--workers", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "fold 1/2: training on" in first.stdout and "fold 2/2: training on" in first.stdout
    assert "mean +- sd" in first.stdout and "nothing chosen on the evaluate fold" in first.stdout
    summary = json.loads((run / "cv.json").read_text())
    assert summary["folds"] == 2
    evaluated = []
    for fold in (1, 2):
        result = json.loads((run / f"fold{fold}" / "result.json").read_text())
        split = dict(line.split(",") for line in (run / f"fold{fold}" / "split.csv").read_text().split()[1:])
        assert all(len(s) == 1 for s in _groups_per_subset(split).values())
        scores = result["int8_file"]
        assert scores["n"] == sum(1 for s in split.values() if s == "evaluate")  # one decision per recording
        assert 0.0 <= scores["micro_accuracy"] <= 1.0 and result["export"]["passed"]
        evaluated += [n for n, s in split.items() if s == "evaluate"]
    assert sorted(evaluated) == sorted(r.name for r in scan_folders(takes, RATE).recordings)  # each once
    confusion = summary["int8_file_confusion"]["confusion"]
    assert sum(map(sum, confusion)) == len(evaluated)
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0 and again.stdout.count("done earlier") == 2, again.stderr[-2000:]
    assert json.loads((run / "cv.json").read_text())["int8_file"] == summary["int8_file"]


def test_cv_refusals_are_one_line(takes: Path, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "asc_edge.recipe.asc_train", "cv", "--data", str(takes), "--out",
            str(tmp_path / "cv")]
    for extra, message in ((["--folds", str(tmp_path / "none.csv")], "no such fold file"),
                           (["--folds", "2", "--split", "x.csv"], "give --folds, not --split"),
                           (["--folds", "9"], "fewer than the folds")):
        done = subprocess.run(base + extra, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_real_esc10_official_folds_keep_sources_together_and_made_folds_do_too() -> None:
    esc10 = os.environ.get("ASC_ESC10_DIR")
    if not esc10 or not Path(esc10, "folds.csv").is_file():
        pytest.skip("ASC_ESC10_DIR is not set to an ESC-10 folder (a folder per label with folds.csv)")
    scan = scan_folders(Path(esc10), RATE)
    assert len(scan.recordings) == 400 and len(scan.labels) == 10
    official, groups = read_fold_csv(Path(esc10, "folds.csv"), scan.recordings)
    assert len(set(groups.values())) < 400  # takes of one source (-A, -B, ...) share a group
    for made_seed in (0, 1):
        made, _ = stratified_group_folds(scan.recordings, 5, seed=made_seed)
        for group in set(groups.values()):
            assert len({made[n] for n in groups if groups[n] == group}) == 1
            assert len({official[n] for n in groups if groups[n] == group}) == 1
    data = load_folders(Path(esc10), RATE, FolderOptions(window_s=5.0))
    clips = {r.name: sum(1 for c in data.clips if c.recording == r.name) for r in scan.recordings}
    window = data.window
    for r in scan.recordings:  # one clip per 5 s file (was two); a second only past 10 % of a window more
        assert clips[r.name] == (2 if r.samples - window > TAIL_MIN_SHARE * window else 1), r.name
    assert sum(clips.values()) == 402
