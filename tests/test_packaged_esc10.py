"""Issue 29: the packaged model of real sounds: its card names the data, classes and CV estimate, its NOTICE
carries ESC-10's attribution, and asc-listen (no --model) on the clips of its held-out fold prints their class
as often as its card says. The real-audio part needs ESC-10 (ASC_ESC10_DIR) and skips without it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asc_edge.modelfile.read import read_model_file
from asc_edge.runtime.packaged import NOTICE_NAME, default_model_path, packaged_path, synthetic_model_path

ESC10_LABELS = ["baby_cry", "chainsaw", "clock_tick", "dog_bark", "fire_crackling", "helicopter", "person_sneeze",
                "rain", "rooster", "sea_waves"]


def _card() -> dict:
    with default_model_path() as path:
        return read_model_file(path)[1].to_dict()


def test_default_model_card_names_the_data_classes_and_cv_estimate() -> None:
    card = _card()
    data, cv = card["training_data"], card["cross_validation"]
    assert card["labels"] == ESC10_LABELS == data["classes"] and card["preset"] == "student"
    assert "ESC-10" in data["name"] and "CC BY 3.0" in data["license"] and "NOTICE" in data["license"]
    assert cv["folds"] == 5 and 0.5 < cv["int8_file_micro_accuracy"]["mean"] <= 1.0
    assert 0.0 <= cv["int8_file_micro_accuracy"]["sd"] < 0.2
    with synthetic_model_path() as synth:  # the synthetic scene model is still in the wheel, one --model away
        assert read_model_file(synth)[1].labels[0] == "airport"


def test_notice_with_esc10_attribution_ships_beside_the_model() -> None:
    with packaged_path(NOTICE_NAME) as notice:
        text = notice.read_text(encoding="utf-8")
    assert "Piczak" in text and "creativecommons.org/licenses/by/3.0" in text and "esc10_student_int8" in text
    assert text.count("clip derived from") == 400  # every clip's credit, as the dataset's README gives it


def _held_out(esc10: Path, fold: str) -> list[tuple[str, str]]:
    with (esc10 / "folds.csv").open() as handle:
        return [(row["file"], row["file"].split("/")[0]) for row in csv.DictReader(handle) if row["fold"] == fold]


def test_asc_listen_default_model_on_its_held_out_real_clips() -> None:
    esc10 = os.environ.get("ASC_ESC10_DIR")
    if not esc10 or not Path(esc10, "folds.csv").is_file():
        pytest.skip("ASC_ESC10_DIR is not set to an ESC-10 folder (a folder per label with folds.csv)")
    card = _card()
    fold = card["training_data"]["held_out"].split("fold ")[1].split(" ")[0]
    clips = _held_out(Path(esc10), fold)
    done = subprocess.run([sys.executable, "-m", "asc_edge.runtime.listen_cli", "--format", "csv",
                           *(str(Path(esc10, f)) for f, _ in clips)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [r for r in csv.DictReader(done.stdout.splitlines()) if r["kind"] == "file"]
    printed = {Path(r["file"]).name: r["label"] for r in rows}
    right = {label: 0 for label in ESC10_LABELS}
    for name, label in clips:
        right[label] += printed[Path(name).name] == label
    assert all(right.values()), f"a class never printed on its own held-out clips: {right}"
    accuracy = sum(right.values()) / len(clips)
    assert accuracy == pytest.approx(card["training_data"]["held_out_micro_accuracy"], abs=1e-9)


def test_about_fields_are_added_to_the_card_but_never_replace_its_own(tiny_checkpoint: Path) -> None:
    from asc_edge.export.pipeline import model_card
    from asc_edge.plumbing.errors import ExportError
    from asc_edge.train.checkpoint import load_checkpoint

    checkpoint, raw = load_checkpoint(tiny_checkpoint), tiny_checkpoint.read_bytes()
    card = model_card(checkpoint, raw, None, {"training_data": {"name": "mine"}})
    assert card["training_data"] == {"name": "mine"} and card["labels"] == checkpoint["labels"]
    with pytest.raises(ExportError, match="not replace its own: labels"):
        model_card(checkpoint, raw, None, {"labels": ["a", "b"]})
    bad = tiny_checkpoint.with_name("about.json")
    bad.write_text("[1, 2]")
    done = subprocess.run([sys.executable, "-m", "asc_edge.export.cli", str(tiny_checkpoint), "--about", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "must hold a JSON object" in done.stderr and "Traceback" not in done.stderr
