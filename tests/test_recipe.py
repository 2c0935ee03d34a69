"""``asc-train recipe`` end to end at CI size: stages, skip / resume / redo, interruption, report, bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from asc_edge.plumbing.cli_util import run_cli
from asc_edge.recipe.asc_train import main as train_main
from asc_edge.recipe.config import SCHEMA, load_config
from asc_edge.recipe.run import Machine, run_recipe
from asc_edge.train.checkpoint import load_checkpoint

# Every stage, at CI size: one teacher (the tiny preset: a 315 k teacher costs minutes here), a student long
# enough to be interrupted between epochs, pruning and QAT. Export is its own test (it costs ~25 s).
CI_TOML = """
base = "quick"
[translator]
steps = 20
[teacher]
count = 1
preset = "tiny"
epochs = 1
[student]
preset = "tiny"
epochs = 3
[prune]
structured = 0.25
unstructured = 0.2
epochs = 1
[int8]
qat_epochs = 1
[export]
enabled = false
"""
TRAINING_STAGES = ("teacher_1", "student", "prune", "int8")


def _config(tmp: Path, text: str = CI_TOML, name: str = "ci.toml") -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def _record(run: Path, stage: str) -> dict:
    return json.loads((run / stage / "stage.json").read_text())


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def straight(tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One uninterrupted recipe run (in-process), shared by the tests that only read or copy it."""
    root = tmp_path_factory.mktemp("recipe")
    config = _config(root)
    run, cache = root / "run", root / "cache"
    lines: list[str] = []
    report = run_recipe(load_config(str(config)), str(tiny_synth), str(run),
                        Machine(device="cpu", cache_dir=str(cache), progress=False), log=lines.append)
    return {"root": root, "config": config, "run": run, "cache": cache, "report": report, "log": lines}


def test_every_stage_runs_and_the_report_has_a_row_each(straight: dict) -> None:
    run, report = straight["run"], straight["report"]
    names = [row["stage"] for row in report["stages"]]
    assert names == ["translator", *TRAINING_STAGES]
    assert report["complete"]
    for stage in TRAINING_STAGES:
        record = _record(run, stage)
        assert record["status"] == "done" and (run / stage / "model.pt").is_file()
        checkpoint = torch.load(run / stage / "model.pt", weights_only=True)
        assert checkpoint["training"]["epoch"] == record["summary"]["epochs"]
    rows = {row["stage"]: row for row in report["stages"]}
    # The figures are the checkpoints' own: pruning shrinks the model, unstructured zeros lower non-zero.
    assert rows["prune"]["parameters"] < rows["student"]["parameters"]
    assert rows["prune"]["nonzero_parameters"] < rows["prune"]["parameters"]
    assert rows["int8"]["parameters"] == rows["prune"]["parameters"]
    for row in rows.values():
        if row["stage"] != "translator":
            assert 0.0 <= row["accuracy"] <= 1.0 and row["log_loss"] > 0
            assert row["seen"] is not None and row["unseen"] is not None
    assert "held-out log-mel MSE" in rows["translator"]["note"]
    assert torch.load(run / "int8" / "model.pt", weights_only=True)["compression"]["qat"]
    # KD reached the student, and the translator every training stage.
    student = torch.load(run / "student" / "model.pt", weights_only=True)
    assert student["compression"]["distilled_from"] == [str(run / "teacher_1" / "model.pt")]
    assert student["compression"]["translator"] == str(run / "translator" / "translator.pt")
    markdown = (run / "report.md").read_text()
    assert all(f"| {name} | done |" in markdown for name in names)
    assert (run / "accuracy_vs_size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((run / "report.json").read_text())["stages"] == report["stages"]


def test_rerun_skips_every_finished_stage(straight: dict, tiny_synth: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(straight["run"], run)
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*.pt")}
    lines: list[str] = []
    run_recipe(load_config(str(straight["config"])), str(tiny_synth), str(run),
               Machine(device="cpu", cache_dir=str(straight["cache"]), progress=False), log=lines.append)
    assert sum("skipped" in line for line in lines) == 1 + len(TRAINING_STAGES)
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*.pt")} == before


def test_torchrun_with_two_cpu_ranks_runs_then_skips_the_recipe(tiny_synth: Path, tmp_path: Path) -> None:
    """Every rank trains (DDP, as asc-train, QAT included), rank 0 alone writes; a second torchrun skips every
    stage."""
    config = _config(tmp_path, "[translator]\nsteps = 20\n[student]\npreset = \"tiny\"\nepochs = 1\n"
                               "[export]\nenabled = false\n")
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "asc_edge.recipe.asc_train", "recipe", "--data", str(tiny_synth), "--out", str(run),
               "--config", str(config), "--cache-dir", str(tmp_path / "cache"), "--device", "cpu", "--quiet"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert [row["stage"] for row in json.loads((run / "report.json").read_text())["stages"]] == \
        ["translator", "student", "int8"]
    assert _record(run, "student")["status"] == "done" and _record(run, "int8")["status"] == "done"
    assert load_checkpoint(run / "student" / "model.pt")["training"]["epoch"] == 1
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*.pt")}
    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    assert (second.stdout + second.stderr).count("skipped") == 3  # rank 0 logs; the other rank only follows
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*.pt")} == before
    _a_late_rank_still_finds_every_decision(command[6:], run)


def _a_late_rank_still_finds_every_decision(recipe_command: list[str], run: Path) -> None:
    """Rank 0 of an all-skip run is done in a second; a rank that starts after that must still finish.

    The two ranks are started by hand (as torchrun would, same run id) so that rank 1 starts after rank 0 has
    published its last decision: before the fix, rank 0 removed the decisions and rank 1 waited for ever (CI
    caught it under load: the second torchrun above hung for 600 s).
    """
    environment = {**os.environ, "WORLD_SIZE": "2", "TORCHELASTIC_RUN_ID": "late-rank", "MASTER_PORT": "1"}
    command = [sys.executable, *recipe_command]
    rank_0 = subprocess.Popen(command, env={**environment, "RANK": "0"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(run.glob(".sync/*/int8.json")) and time.monotonic() < deadline and rank_0.poll() is None:
            time.sleep(0.05)
        time.sleep(1.0)
        assert rank_0.poll() is None, "rank 0 ended before the other rank had read its decisions"
        rank_1 = subprocess.run(command, env={**environment, "RANK": "1"}, capture_output=True, text=True,
                                timeout=120)
        assert rank_1.returncode == 0, rank_1.stderr[-2000:]
        out, err = rank_0.communicate(timeout=60)
        assert rank_0.returncode == 0, err[-2000:]
        assert out.count("skipped") == 3
        assert not (run / ".sync").exists()
    finally:
        rank_0.kill()


def test_changed_settings_redo_that_stage_and_the_ones_after_it(straight: dict, tiny_synth: Path,
                                                                tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(straight["run"], run)
    config = _config(tmp_path, CI_TOML.replace("[prune]\nstructured = 0.25", "[prune]\nstructured = 0.5"))
    lines: list[str] = []
    run_recipe(load_config(str(config)), str(tiny_synth), str(run),
               Machine(device="cpu", cache_dir=str(straight["cache"]), progress=False), log=lines.append)
    verdicts = {line.split()[3].rstrip(":"): line for line in lines if " stage " in line}
    assert all("skipped" in verdicts[name] for name in ("translator", "teacher_1", "student"))
    assert "settings changed" in verdicts["prune"] and "settings changed" in verdicts["int8"]
    assert _record(run, "prune")["settings"]["prune_structured"] == 0.5
    assert (torch.load(run / "prune" / "model.pt", weights_only=True)["size"]["parameters"]
            < torch.load(straight["run"] / "prune" / "model.pt", weights_only=True)["size"]["parameters"])


def test_interrupted_mid_stage_then_rerun_skips_done_stages_and_ends_like_a_straight_run(
        straight: dict, tiny_synth: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    command = [sys.executable, "-m", "asc_edge.recipe.asc_train", "recipe", "--data", str(tiny_synth),
               "--out", str(run), "--config", str(straight["config"]), "--cache-dir", str(straight["cache"]),
               "--device", "cpu", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen, in_student = [], False
    deadline = time.monotonic() + 240
    for line in process.stdout:
        seen.append(line)
        in_student = in_student or "stage student:" in line
        if in_student and line.startswith("asc-train recipe: epoch 1/3"):
            process.send_signal(signal.SIGINT)  # Ctrl-C during the student's second epoch
            break
        assert time.monotonic() < deadline, "".join(seen)
    rest, _ = process.communicate(timeout=120)
    assert process.returncode == 130, "".join(seen) + rest
    record = _record(run, "student")
    assert record["status"] == "running"
    done_epochs = torch.load(run / "student" / "model.pt", weights_only=True)["training"]["epoch"]
    assert 1 <= done_epochs < 3
    assert not (run / "prune").exists()

    lines: list[str] = []
    run_recipe(load_config(str(straight["config"])), str(tiny_synth), str(run),
               Machine(device="cpu", cache_dir=str(straight["cache"]), progress=False), log=lines.append)
    verdicts = {line.split()[3].rstrip(":"): line for line in lines if " stage " in line}
    assert "skipped" in verdicts["translator"] and "skipped" in verdicts["teacher_1"]
    assert "resuming" in verdicts["student"]
    assert _record(run, "student")["resumed"] is True
    # The resumed run replays the same randomness: every stage ends with the straight run's weights.
    for stage in TRAINING_STAGES:
        ours, theirs = _weights(run / stage / "model.pt"), _weights(straight["run"] / stage / "model.pt")
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), stage
    report = json.loads((run / "report.json").read_text())
    for ours, theirs in zip(report["stages"], straight["report"]["stages"]):
        assert (ours["accuracy"], ours["log_loss"]) == (theirs["accuracy"], theirs["log_loss"])


def test_export_stage_uses_the_export_core_with_default_gates(straight: dict, tiny_synth: Path,
                                                              tmp_path: Path) -> None:
    from asc_edge.export.pipeline import ExportSettings

    run = tmp_path / "run"
    shutil.copytree(straight["run"], run)
    config = _config(tmp_path, CI_TOML.replace("enabled = false", "enabled = true"))
    argv = ["recipe", "--data", str(tiny_synth), "--out", str(run), "--config", str(config), "--cache-dir",
            str(straight["cache"]), "--device", "cpu", "--quiet"]
    code = run_cli(train_main, argv, prog="asc-train")
    export = json.loads((run / "export" / "export_report.json").read_text())
    defaults = ExportSettings(checkpoint="x")
    assert export["thresholds"]["min_agreement"] == defaults.min_agreement
    assert export["thresholds"]["max_drop_pp"] == defaults.max_drop_pp
    assert export["checkpoint"] == str(run / "int8" / "model.pt")
    row = json.loads((run / "report.json").read_text())["stages"][-1]
    assert row["stage"] == "export"
    # The verdict is the gates' own: a pass leaves the .tflite and exits 0, a refusal neither.
    assert code == (0 if export["passed"] else 2)
    assert (run / "export" / "model_int8.tflite").is_file() == export["passed"]
    assert row["status"] == ("done" if export["passed"] else "refused")
    assert row["top1_agreement"] == export["fidelity"]["top1_agreement"]
    if export["passed"]:
        assert row["tflite_bytes"] == (run / "export" / "model_int8.tflite").stat().st_size
        assert (run / "export" / "model_int8.h").is_file()
        # quick's export: full int8 from the QAT stage's own ranges, and the report says so
        assert export["settings"]["activations"] == "int8" and export["settings"]["ranges"] == "checkpoint"
        assert row["note"].startswith("int8 TFLite, default gates passed")


# -- configs ---------------------------------------------------------------------------------------------------
def test_packaged_configs_are_complete_and_quick_is_the_main_job() -> None:
    quick, paper = load_config("quick"), load_config("paper")
    for config in (quick, paper):
        assert {s: set(v) for s, v in config.values.items()} == {s: set(v) for s, v in SCHEMA.items()}
    assert quick.get("teacher", "count") == 0 and quick.get("student", "epochs") == 30
    assert quick.get("run", "frontend") == "small" and quick.get("translator", "kind") == "parametric"
    assert paper.get("teacher", "preset") == "teacher" and paper.get("run", "frontend") == "dcase"


def test_a_toml_file_overrides_fields_of_its_base(tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, 'base = "paper"\n[student]\nepochs = 7\n[int8]\nqat_epochs = 0\n')))
    assert config.get("student", "epochs") == 7 and config.get("int8", "qat_epochs") == 0
    assert config.get("teacher", "epochs") == load_config("paper").get("teacher", "epochs")


@pytest.mark.parametrize(("toml", "message"), [
    ("[student]\nepoch = 3\n", "unknown field student.epoch"),
    ("[studnet]\nepochs = 3\n", "unknown section [studnet]"),
    ("[prune]\nstructured = 1.5\n", "prune.structured: must be at most 0.95, got 1.5"),
    ("[student]\nkd_alpha = -0.1\n", "student.kd_alpha: must be at least 0"),
    ("[student]\nepochs = 0\n", "student.epochs: must be at least 1"),
    ("[student]\nepochs = \"ten\"\n", "student.epochs: expected an integer"),
    ("[run]\nfrontend = \"huge\"\n", "run.frontend: must be one of"),
    ("[int8]\nqat_epochs = true\n", "int8.qat_epochs: expected an integer"),
    ("base = \"fast\"\n", "base must be one of quick, paper"),
    ("[student\nepochs = 3\n", "not valid TOML"),
    ("[export]\nmin_agreement = 0.5\n", "unknown field export.min_agreement"),  # gates are not lowerable
])
def test_bad_config_is_one_line_naming_the_field(toml, message, tiny_synth, tmp_path, capsys) -> None:
    config = _config(tmp_path, toml)
    argv = ["recipe", "--data", str(tiny_synth), "--out", str(tmp_path / "run"), "--config", str(config)]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_missing_config_and_non_tau_data_are_refused(tiny_synth: Path, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert run_cli(train_main, ["recipe", "--data", str(tiny_synth), "--out", str(run), "--config",
                                str(tmp_path / "nope.toml")], prog="asc-train") == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err
    (tmp_path / "notau").mkdir()
    (tmp_path / "notau" / "clip.wav").write_bytes(b"RIFF")
    assert run_cli(train_main, ["recipe", "--data", str(tmp_path / "notau"), "--out", str(run)],
                   prog="asc-train") == 2
    err = capsys.readouterr().err.strip()
    assert "meta.csv" in err and "\n" not in err
    assert not run.exists()


def test_run_dir_of_another_data_set_or_not_a_run_is_refused_untouched(straight: dict, tmp_path: Path,
                                                                        capsys) -> None:
    from asc_edge.data.synth.generate import generate_dataset

    other = tmp_path / "other"
    generate_dataset(other, progress=False, workers=1, clips_per_class=4, duration=1.5, sample_rate=16000, seed=9)
    before = {p: p.stat().st_mtime_ns for p in straight["run"].rglob("*")}
    argv = ["recipe", "--data", str(other), "--out", str(straight["run"]), "--config", str(straight["config"])]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    err = capsys.readouterr().err.strip()
    assert "holds a recipe run on other data" in err and "\n" not in err
    assert {p: p.stat().st_mtime_ns for p in straight["run"].rglob("*")} == before
    busy = tmp_path / "busy"
    (busy / "student").mkdir(parents=True)
    (busy / "student" / "keep.txt").write_text("mine")
    argv = ["recipe", "--data", str(other), "--out", str(busy), "--config", str(straight["config"])]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    assert "holds student but no recipe.json" in capsys.readouterr().err
    assert [str(p.relative_to(busy)) for p in busy.rglob("*")] == ["student", "student/keep.txt"]


def test_the_old_module_form_names_the_command_that_has_the_recipe(capsys) -> None:
    from asc_edge.train.cli import main as train_cli_main  # train's own CLI: no recipe (a higher layer)

    assert run_cli(train_cli_main, ["recipe", "--config", "quick"], prog="asc-train") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "python -m asc_edge.recipe.asc_train recipe" in err


def test_print_config_shows_the_resolved_config(tmp_path: Path, capsys) -> None:
    config = _config(tmp_path, "[student]\nepochs = 11\n")
    argv = ["recipe", "--data", "unused", "--out", "unused", "--config", str(config), "--print-config"]
    assert run_cli(train_main, argv, prog="asc-train") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["student"]["epochs"] == 11 and shown["teacher"]["count"] == 0


def test_conv_translator_fits_held_out_pairs_and_round_trips(tiny_synth: Path, tmp_path: Path) -> None:
    import numpy as np

    from asc_edge.audio.profiles import get_profile
    from asc_edge.train.checkpoint import save_atomic
    from asc_edge.train.data import load_training_data
    from asc_edge.train.translator import load_translator, parallel_pairs
    from asc_edge.train.translator.conv import ConvTranslator, fit_conv_translator

    data = load_training_data(tiny_synth, get_profile("small"), tmp_path / "cache", progress=False)
    translator = fit_conv_translator(data, steps=60)
    assert set(translator.devices) == {"b", "c", "s1", "s2", "s3"}
    for device, fit in translator.fit_report.items():  # held-out pairs: closer to the real device than before
        assert fit["pairs_held_out"] > 0 and fit["mse_translated"] < fit["mse_untranslated"], (device, fit)
    save_atomic(translator.to_dict(), tmp_path / "conv.pt")
    loaded = load_translator(str(tmp_path / "conv.pt"))  # what asc-train --translator reads
    assert isinstance(loaded, ConvTranslator) and loaded.devices == translator.devices
    pairs = parallel_pairs(data)["c"]
    ref = data.batch(np.array([p[0] for p in pairs]))
    index = torch.full((len(pairs),), translator.devices.index("c"))
    ours = translator.translate(ref, index, residual_noise=False)
    assert ours.shape == ref.shape and torch.equal(ours, loaded.translate(ref, index, residual_noise=False))
