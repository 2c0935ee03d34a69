"""asc-eval (issue 31): a folder tree of real WAVs this test writes, the packaged model through real LiteRT, the
report checked against a confusion matrix counted here from asc-listen's own per-file decisions (and against
scikit-learn's metrics); the TAU layout, --split, --map, --plot, the unreadable file, and every refusal."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy.signal import resample_poly
from sklearn.metrics import balanced_accuracy_score, log_loss

from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.eval_cli import main as eval_main
from asc_edge.runtime.listen_cli import main as listen_main
from asc_edge.runtime.packaged import synthetic_model_path

SCENES = ("bus", "park", "metro", "airport")  # four of the packaged synthetic-scene model's ten labels
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with synthetic_model_path() as packaged:
        copy = tmp_path_factory.mktemp("model") / "model_int8.tflite"
        copy.write_bytes(packaged.read_bytes())
    return copy


@pytest.fixture(scope="module")
def scenes(tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder per scene from tiny_synth's audio: per scene one 6 s recording (four clips joined, 44.1 kHz
    stereo: two windows of the packaged model, the second its tail window) and three 1.5 s clips (looped to fill
    a window); a devices.csv for some files; a ``_meta/`` README; and one corrupt WAV, to be named, not scored."""
    root = tmp_path_factory.mktemp("eval") / "scenes"
    by_scene: dict[str, list[Path]] = {}
    with open(tiny_synth / "meta.csv", newline="") as meta:
        for row in csv.DictReader(meta, delimiter="\t"):
            by_scene.setdefault(row["scene_label"], []).append(tiny_synth / row["filename"])
    devices = ["file,device"]
    for scene in SCENES:
        clips = sorted(by_scene[scene])
        (root / scene).mkdir(parents=True)
        joined = np.concatenate([soundfile.read(str(p))[0] for p in clips[:4]])
        stereo = np.stack([joined, 0.5 * joined], axis=1)
        soundfile.write(str(root / scene / "long.wav"), resample_poly(stereo, 441, 160, axis=0), 44100)
        for i, clip in enumerate(clips[4:7]):
            (root / scene / f"clip{i}.wav").write_bytes(clip.read_bytes())
            devices.append(f"{scene}/clip{i}.wav,{'phone' if i else 'pi'}")
    (root / "devices.csv").write_text("\n".join(devices) + "\n")
    (root / "_meta").mkdir()
    (root / "_meta" / "README.md").write_text("where these were recorded")
    (root / "bus" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return root


def _eval(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = run_cli(eval_main, [*args, "--quiet"], prog="asc-eval")
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn: asc-listen's probabilities are rounded to 1e-6
def test_report_equals_a_confusion_matrix_counted_from_asc_listens_decisions(
        scenes: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _eval([str(model_path), str(scenes), "--json", "--out", str(tmp_path / "eval.json")], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "eval.json").read_text())

    # The reference: asc-listen on the same folder (the user's command), its per-file rows counted by hand.
    assert run_cli(listen_main, [str(scenes), "--model", str(model_path), "--format", "jsonl", "--out",
                                 str(tmp_path / "listen.jsonl")], prog="asc-listen") == 1  # broken.wav fails
    capsys.readouterr()
    rows = [json.loads(line) for line in (tmp_path / "listen.jsonl").read_text().splitlines()]
    files = [r for r in rows if r["kind"] == "file"]
    labels = report["labels"]
    truth = [labels.index(Path(r["file"]).relative_to(scenes).parts[0]) for r in files]
    decided = [labels.index(r["label"]) for r in files]
    expected = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(truth, decided):
        expected[t, p] += 1
    assert len(files) == report["recordings"] == 16
    assert report["confusion"] == expected.tolist()
    assert report["accuracy"] == pytest.approx(np.mean(np.array(truth) == np.array(decided)))
    assert report["macro_accuracy"] == pytest.approx(balanced_accuracy_score(truth, decided))
    probabilities = np.array([[r["probabilities"][name] for name in labels] for r in files])
    assert report["log_loss"] == pytest.approx(log_loss(truth, probabilities, labels=range(len(labels))), abs=1e-4)
    for i, label in enumerate(labels):
        row, column = expected[i], expected[:, i]
        per_class = report["per_class"][label]
        assert per_class["n"] == row.sum()
        assert per_class["recall"] == (None if not row.sum() else pytest.approx(row[i] / row.sum()))
        assert per_class["precision"] == (None if not column.sum() else pytest.approx(column[i] / column.sum()))
    # the long recording really took two windows, as asc-listen cut it
    assert sum(1 for r in rows if r["kind"] == "window" and r["file"].endswith("bus/long.wav")) == 2

    # the corrupt file is counted and named, the _meta folder skipped with a count, devices broken down
    assert [u["file"] for u in report["unreadable"]] == ["bus/broken.wav"]
    assert "bus/broken.wav" in err
    assert report["skipped"] == {"folders starting with _ or . (not labels)": 1}  # devices.csv is no stray file
    assert set(report["per_device"]) == {"pi", "phone", "unknown"} and "seen" not in report


def test_console_report_and_plot(scenes: Path, model_path: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture) -> None:
    code, out, err = _eval([str(model_path), str(scenes), "--plot", str(tmp_path / "eval.png")], capsys)
    assert code == 0, err
    assert "16 recordings" in out and "macro accuracy" in out and "confusion matrix" in out
    assert "1 recording(s) could not be classified" in out and "broken.wav" in out
    assert "macro accuracy per device: phone" in out
    assert (tmp_path / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _eval([str(model_path), str(scenes), "--plot", str(tmp_path / "eval.svg")], capsys)[0] == 0
    assert b"<svg" in (tmp_path / "eval.svg").read_bytes()[:1000]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial files left


def test_tau_layout_scores_its_evaluate_split_with_seen_and_unseen(tiny_synth: Path, model_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    code, out, err = _eval([str(model_path), str(tiny_synth), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    with open(tiny_synth / "evaluation_setup" / "fold1_evaluate.csv") as table:
        assert report["recordings"] == sum(1 for _ in table) - 1
    assert report["seen"]["n"] + report["unseen"]["n"] == report["recordings"] and report["unseen"]["n"] > 0
    assert report["unseen_devices"] == [d for d in ("s4", "s5", "s6") if d in report["per_device"]]
    everything = json.loads(_eval([str(model_path), str(tiny_synth), "--json", "--subset", "all"], capsys)[1])
    assert everything["recordings"] > report["recordings"]


def test_a_split_file_chooses_the_subset_and_says_which_devices_are_unseen(
        scenes: Path, model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    split = tmp_path / "split.csv"
    # clip0 (pi) and clip1 (phone) evaluate, clip2 (phone) trains: pi is a device the model never heard
    rows = [f"{scene}/clip{i}.wav,{'evaluate' if i < 2 else 'train'}" for scene in SCENES for i in range(3)]
    split.write_text("file,subset\n" + "\n".join(rows) + "\n")
    code, out, err = _eval([str(model_path), str(scenes), "--split", str(split), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["recordings"] == 8 and report["unseen_devices"] == ["pi"]
    assert report["seen"]["n"] == 4 and report["unseen"]["n"] == 4


def test_labels_the_model_lacks_are_refused_or_mapped(scenes: Path, model_path: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    for scene, name in (("bus", "bus"), ("park", "garden")):
        (data / name).mkdir(parents=True)
        (data / name / "a.wav").write_bytes((scenes / scene / "clip0.wav").read_bytes())
    code, out, err = _eval([str(model_path), str(data)], capsys)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert "garden" in err and "--map" in err
    code, out, err = _eval([str(model_path), str(data), "--map", "garden=park", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["per_class"]["park"]["n"] == 1
    code, _, err = _eval([str(model_path), str(data), "--map", "lawn=park"], capsys)
    assert code == 2 and "no label 'lawn'" in err


@pytest.mark.parametrize("case", ["missing model", "missing folder", "subset without split", "bad plot name",
                                  "corrupt model", "bad map"])
def test_bad_input_is_one_line_and_exit_2(case: str, scenes: Path, model_path: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    args = {"missing model": [str(tmp_path / "none.tflite"), str(scenes)],
            "missing folder": [str(model_path), str(tmp_path / "nowhere")],
            "subset without split": [str(model_path), str(scenes), "--subset", "evaluate"],
            "bad plot name": [str(model_path), str(scenes), "--plot", str(tmp_path / "eval.jpg")],
            "corrupt model": [str(tmp_path / "bad.tflite"), str(scenes)],
            "bad map": [str(model_path), str(scenes), "--map", "bus"]}[case]
    (tmp_path / "bad.tflite").write_bytes(b"not a model")
    code, out, err = _eval(args, capsys)
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and err.startswith("asc-eval: error: "), err


def _python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_imports_no_torch_and_no_tensorflow(scenes: Path, model_path: Path) -> None:
    done = _python("import sys\nfrom asc_edge.runtime.eval_cli import main\n"
                   f"assert main([{str(model_path)!r}, {str(scenes)!r}, '--quiet']) == 0\n"
                   "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow'))\n"
                   "print('HEAVY', heavy)")
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_plot_without_matplotlib_is_one_line(scenes: Path, model_path: Path, tmp_path: Path) -> None:
    # sys.modules[name] = None makes `import matplotlib` raise ImportError, as on a Pi without the plot extra
    done = _python("import sys\nsys.modules['matplotlib'] = None\n"
                   "from asc_edge.plumbing.cli_util import run_cli\nfrom asc_edge.runtime.eval_cli import main\n"
                   f"sys.exit(run_cli(main, [{str(model_path)!r}, {str(scenes)!r}, '--plot', "
                   f"{str(tmp_path / 'x.png')!r}], prog='asc-eval'))")
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip().splitlines() == [
        "asc-eval: error: --plot needs matplotlib, which is not installed: pip install 'asc-edge[plot]' "
        "(or pip install matplotlib)"]


ESC10 = os.environ.get("ASC_ESC10_DIR")


@pytest.mark.skipif(not ESC10, reason="ASC_ESC10_DIR is not set (ESC-10: a folder per label of .ogg files)")
def test_real_recordings_esc10(model_path: Path, capsys: pytest.CaptureFixture) -> None:
    """400 real field recordings (44.1 kHz Ogg Vorbis, 3.6-7.2 s): a scene model lacks their labels (one line,
    exit 2); mapped onto its labels, every recording is read and scored (the figures mean nothing, the reading
    does), and the folder's folds.csv and READMEs are counted as non-audio, not taken for labels."""
    code, out, err = _eval([str(model_path), ESC10], capsys)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1 and "baby_cry" in err
    labels = sorted(p.name for p in Path(ESC10).iterdir() if p.is_dir())
    scenes = ["airport", "bus", "metro", "metro_station", "park", "public_square", "shopping_mall",
              "street_pedestrian", "street_traffic", "tram"]
    mapping = [arg for old, new in zip(labels, scenes) for arg in ("--map", f"{old}={new}")]
    code, out, err = _eval([str(model_path), ESC10, *mapping, "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["recordings"] == 400 and report["unreadable"] == []
    assert {c["n"] for c in report["per_class"].values()} == {40}
    assert report["skipped"] == {"non-audio files": 3}
