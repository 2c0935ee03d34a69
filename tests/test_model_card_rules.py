"""One rule set for every model-card field: labels at each rule's edge get the same verdict from the export's
check before conversion and from the runtime's reader; an accepted unusual label set (a comma, non-ASCII
names) exports for real and ``asc-listen --model`` reads and prints it; a 101-character label is refused by
``asc-export`` before any conversion."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from asc_edge.export.cli import main as export_main
from asc_edge.export.flatbuffer import embed_model_card
from asc_edge.export.pipeline import read_back
from asc_edge.export.preflight import check_before_export
from asc_edge.modelfile.card import MAX_LABEL_CHARACTERS, label_problem
from asc_edge.modelfile.read import read_model_card
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.plumbing.errors import ExportError, ModelFileError
from asc_edge.runtime.listen_cli import main as listen_main
from asc_edge.runtime.packaged import default_model_path
from asc_edge.train.checkpoint import load_checkpoint, model_from_checkpoint, save_atomic

RELAXED = ["--min-agreement", "0", "--max-drop", "100", "--max-log-loss-increase", "100"]
FILLER = [f"scene {i}" for i in range(9)]  # nine ordinary names beside the label under test (10 outputs)

# label under test -> accepted? (the one rule: a non-empty list of distinct strings of 1 to 100 printable
# characters, none blank)
EDGES = {
    "100 characters": ("a" * MAX_LABEL_CHARACTERS, True),
    "101 characters": ("a" * (MAX_LABEL_CHARACTERS + 1), False),
    "blank": ("   ", False),
    "empty": ("", False),
    "comma": ("a,b", True),
    "non-ASCII Latin": ("café", True),
    "non-ASCII CJK": ("地下鉄", True),
    "tab inside": ("a\tb", False),
    "newline inside": ("a\nb", False),
    "duplicate": (FILLER[0], False),
}


@pytest.fixture(scope="module")
def packaged() -> bytes:
    with default_model_path() as path:
        return path.read_bytes()


@pytest.fixture(scope="module")
def checkpoint(tiny_checkpoint: Path) -> dict:
    return load_checkpoint(tiny_checkpoint)


def _export_verdict(checkpoint: dict, labels: list[str], tmp_path: Path) -> str | None:
    """What asc-export's check before conversion says about ``labels`` (None: accepted)."""
    edited = {**checkpoint, "labels": labels}
    try:
        check_before_export(edited, "edited.pt", model_from_checkpoint(edited), tmp_path, 128_000)
    except ExportError as exc:
        return str(exc)
    return None


def _runtime_verdict(packaged: bytes, labels: list[str]) -> str | None:
    """What the runtime's reader says about the packaged model carrying ``labels`` (None: accepted)."""
    card = read_model_card(packaged).to_dict()
    card["labels"] = labels
    try:
        read_model_card(embed_model_card(packaged, card), "model.tflite")
    except ModelFileError as exc:
        return str(exc)
    return None


def _reason(message: str | None) -> str | None:
    """The verdict without its source prefix (a checkpoint path or a model path)."""
    return None if message is None else message[message.index("model card field"):]


@pytest.mark.parametrize("case", sorted(EDGES))
def test_export_and_runtime_give_the_same_verdict_on_each_label_edge(case: str, checkpoint: dict, packaged: bytes,
                                                                     tmp_path: Path) -> None:
    label, accepted = EDGES[case]
    labels = [label, *FILLER]
    assert len(labels) == len(checkpoint["labels"]) == len(read_model_card(packaged).labels)
    exported, read = _export_verdict(checkpoint, labels, tmp_path), _runtime_verdict(packaged, labels)
    assert (exported is None) == (read is None) == accepted, (exported, read)
    assert _reason(exported) == _reason(read)  # the same rule, the same words
    assert (label_problem(labels) is None) == accepted
    if not accepted:
        assert "model card field 'labels'" in read and "\n" not in read


@pytest.mark.parametrize("labels", [[], "airport,bus", ["airport", 7], ("airport", "bus")])
def test_the_label_rule_on_the_list_itself(labels: object) -> None:
    # JSON gives lists; a checkpoint may hold a tuple: both are a list of names
    assert (label_problem(labels) is None) == isinstance(labels, tuple)


def test_the_export_reads_its_file_back_and_refuses_what_the_runtime_would(packaged: bytes) -> None:
    read_back(packaged)  # the packaged file: what asc-export wrote, read as asc-listen reads it
    card = read_model_card(packaged).to_dict()
    card["labels"] = ["a" * (MAX_LABEL_CHARACTERS + 1), *card["labels"][1:]]
    with pytest.raises(ExportError, match="model card field 'labels'.*runtime's reader refuses it"):
        read_back(embed_model_card(packaged, card))


def test_a_101_character_label_is_refused_before_conversion(tiny_checkpoint: Path, tiny_synth: Path,
                                                            tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    checkpoint["labels"] = ["a" * (MAX_LABEL_CHARACTERS + 1), *FILLER]
    path = tmp_path / "long.pt"
    save_atomic(checkpoint, path)
    out = tmp_path / "out"
    code = run_cli(export_main, [str(path), "-o", str(out), "--calib", str(tiny_synth), "--quiet"],
                   prog="asc-export")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "model card field 'labels'" in err and "101" in err and str(path) in err
    assert not out.exists()  # refused before conversion: no report, no file


def test_a_comma_and_non_ascii_labels_export_and_asc_listen_reads_them(
        tiny_synth: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import shutil

    import soundfile

    from asc_edge.audio.labels import SCENES
    from asc_edge.train.cli import main as train_main

    # A folder per label named by the labels under test (asc-export calibrates on data with the model's labels),
    # filled with the CI-size asc-synth set's audio, trained briefly and exported as a user would.
    names = ["a,b", "café", "地下鉄", *FILLER[:len(SCENES) - 3]]
    folder = tmp_path / "labelled"
    with open(tiny_synth / "meta.csv", newline="") as meta:
        for row in csv.DictReader(meta, delimiter="\t"):
            target = folder / names[SCENES.index(row["scene_label"])] / Path(row["filename"]).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tiny_synth / row["filename"], target)
    path = tmp_path / "unusual.pt"
    assert run_cli(train_main, ["--data", str(folder), "--out", str(path), "--preset", "tiny", "--frontend", "small",
                                "--epochs", "2", "--batch-size", "8", "--quiet"], prog="asc-train") == 0
    labels = list(load_checkpoint(path)["labels"])
    assert sorted(labels) == sorted(names)
    out = tmp_path / "out"
    assert run_cli(export_main, [str(path), "-o", str(out), "--calibration-clips", "32", "--quiet", *RELAXED],
                   prog="asc-export") == 0
    capsys.readouterr()
    model = out / "model_int8.tflite"
    assert list(read_model_card(model.read_bytes()).labels) == labels
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, (0.1 * np.random.default_rng(0).standard_normal(48000)).astype(np.float32), 16000)

    def listen(fmt: str) -> str:
        code = run_cli(listen_main, [str(wav), "--model", str(model), "--format", fmt], prog="asc-listen")
        captured = capsys.readouterr()
        assert code == 0 and captured.err == "", captured.err
        return captured.out

    header = next(csv.reader(io.StringIO(listen("csv"))))
    assert header[-len(labels):] == labels  # the comma stays inside its quoted cell
    rows = [json.loads(line) for line in listen("jsonl").splitlines()]
    assert rows and all(list(row["probabilities"]) == labels for row in rows if "probabilities" in row)
    table = listen("table")
    assert any(label in table for label in labels)
