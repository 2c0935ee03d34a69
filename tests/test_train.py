"""asc-train end to end on real asc-synth data: learning, checkpoints, resume, stages, bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from asc_edge.data.synth.generate import generate_dataset
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.train.checkpoint import load_checkpoint, model_from_checkpoint, save_atomic
from asc_edge.train.cli import main as train_main
from asc_edge.train.settings import TrainSettings
from asc_edge.train.trainer import Trainer, train

FAST = {"frontend": "small", "batch_size": 16, "progress": False}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The student preset trained on a CI-size asc-synth set (the 'far above chance' run)."""
    root = tmp_path_factory.mktemp("train")
    data = root / "data"
    generate_dataset(data, clips_per_class=24, duration=3.0, sample_rate=16000, seed=11, progress=False, workers=2)
    out = root / "student.pt"
    result = train(TrainSettings(data=str(data), out=str(out), preset="student", epochs=15, **FAST),
                   log=lambda line: None)
    return {"data": data, "out": out, "result": result}


def test_student_learns_far_above_chance(trained: dict) -> None:
    metrics = trained["result"]["metrics"]
    assert metrics["accuracy"] > 0.30, metrics["accuracy"]  # chance is 0.10; 45 % measured
    assert set(metrics["per_device"]) >= {"a", "b", "s4", "s5", "s6"}
    assert metrics["unseen"]["n"] > 0 and metrics["seen"]["n"] > 0


def test_checkpoint_loads_with_weights_only_and_rebuilds_the_model(trained: dict) -> None:
    raw = torch.load(trained["out"], map_location="cpu", weights_only=True)
    assert raw["format"] == "asc-edge-checkpoint" and raw["preset"] == "student"
    assert raw["labels"][0] == "airport" and raw["frontend_config"]["name"] == "small"
    total = 15 + TrainSettings.qat_epochs  # asc-train's default QAT epochs follow the 15 float ones
    assert raw["training"]["epoch"] == total and len(raw["training"]["history"]) == total
    model = model_from_checkpoint(raw)
    x = torch.randn(2, 1, *raw["input_shape"])
    with torch.no_grad():
        assert model(x).shape == (2, 10)
    best = load_checkpoint(trained["out"].with_name("student.best.pt"))
    assert best["metrics"]["accuracy"] == max(h["eval_accuracy"] for h in raw["training"]["history"])


def test_report_folder_has_json_and_plots(trained: dict) -> None:
    import json

    folder = trained["out"].with_name("student_report")
    report = json.loads((folder / "metrics.json").read_text())
    assert report["final"]["accuracy"] == trained["result"]["metrics"]["accuracy"]
    assert report["size"]["parameters"] > 0 and report["size"]["macs"] > 0
    for name in ("confusion.png", "per_device.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_interrupted_training_resumes_to_the_same_weights(tiny_synth: Path, tmp_path: Path) -> None:
    settings = TrainSettings(data=str(tiny_synth), out=str(tmp_path / "straight.pt"), epochs=3, preset="tiny",
                             cache_dir=str(tmp_path / "cache"), **FAST)
    train(settings, log=lambda line: None)

    def interrupt_after_first_epoch(line: str) -> None:
        raise KeyboardInterrupt

    interrupted = TrainSettings(**{**settings.__dict__, "out": str(tmp_path / "resumed.pt")})
    with pytest.raises(KeyboardInterrupt):
        Trainer(interrupted, log=interrupt_after_first_epoch).run()
    assert load_checkpoint(tmp_path / "resumed.pt")["training"]["epoch"] == 1
    train(TrainSettings(**{**interrupted.__dict__, "resume": True}), log=lambda line: None)
    straight, resumed = load_checkpoint(tmp_path / "straight.pt"), load_checkpoint(tmp_path / "resumed.pt")
    assert resumed["training"]["epoch"] == settings.total_epochs  # 3 float + the default QAT epochs
    for key, value in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, msg=key)


def test_translator_stage_fits_devices_better_than_no_translation(tiny_synth: Path, tmp_path: Path) -> None:
    out = tmp_path / "translator.pt"
    assert run_cli(train_main, ["translator", "--data", str(tiny_synth), "--out", str(out), "--frontend", "small",
                                "--cache-dir", str(tmp_path / "cache"), "--quiet"]) == 0
    from asc_edge.train.translator import load_translator

    translator = load_translator(str(out))
    assert set(translator.devices) == {"b", "c", "s1", "s2", "s3"}
    for device, fit in translator.fit_report.items():
        assert fit["mse_translated"] < 0.6 * fit["mse_untranslated"], (device, fit)


def test_translator_stage_fits_the_conv_kind_on_request(tiny_synth: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "conv.pt"
    assert run_cli(train_main, ["translator", "--kind", "conv", "--steps", "40", "--data", str(tiny_synth),
                                "--out", str(out), "--frontend", "small", "--cache-dir", str(tmp_path / "cache"),
                                "--quiet"]) == 0
    from asc_edge.train.translator import load_translator
    from asc_edge.train.translator.conv import ConvTranslator

    translator = load_translator(str(out))  # what asc-train --translator reads
    assert isinstance(translator, ConvTranslator)
    assert set(translator.devices) == {"b", "c", "s1", "s2", "s3"}
    printed = capsys.readouterr().out
    assert "wrote" in printed and all(f"\n{d} " in printed for d in translator.devices)
    for fit in translator.fit_report.values():
        assert fit["mse_translated"] < fit["mse_untranslated"]


def test_translated_reference_clip_moves_towards_the_parallel_device_clip(tiny_synth: Path, tmp_path: Path) -> None:
    from asc_edge.audio.profiles import get_profile
    from asc_edge.train.data import load_training_data
    from asc_edge.train.translator import fit_translator, parallel_pairs

    data = load_training_data(tiny_synth, get_profile("small"), tmp_path / "cache", progress=False)
    translator = fit_translator(data, steps=200, holdout=0.0)
    for device, pairs in parallel_pairs(data).items():
        ref = data.batch(np.array([p[0] for p in pairs]))
        dev = data.batch(np.array([p[1] for p in pairs]))
        index = torch.full((len(pairs),), translator.devices.index(device))
        translated = translator.translate(ref, index, residual_noise=False)
        assert float((translated - dev).pow(2).mean()) < float((ref - dev).pow(2).mean()), device


def test_distillation_pruning_and_qat_stages(trained: dict, tmp_path: Path) -> None:
    data, teacher = str(trained["data"]), str(trained["out"])
    common = ["--data", data, "--frontend", "small", "--batch-size", "16", "--quiet", "--epochs", "1"]
    assert run_cli(train_main, [*common, "--out", str(tmp_path / "kd.pt"), "--preset", "tiny",
                                "--teacher", teacher, teacher]) == 0
    kd = load_checkpoint(tmp_path / "kd.pt")
    assert kd["compression"]["distilled_from"] == [teacher, teacher]

    assert run_cli(train_main, [*common, "--out", str(tmp_path / "pruned.pt"), "--init", teacher,
                                "--prune-structured", "0.5", "--prune-unstructured", "0.3"]) == 0
    pruned = load_checkpoint(tmp_path / "pruned.pt")
    dense = load_checkpoint(trained["out"])["size"]["parameters"]
    assert pruned["model_config"]["stage_widths"] is not None
    assert pruned["size"]["parameters"] < 0.45 * dense
    assert pruned["size"]["nonzero_parameters"] < 0.8 * pruned["size"]["parameters"]

    assert run_cli(train_main, [*common, "--out", str(tmp_path / "qat.pt"), "--init", str(tmp_path / "pruned.pt"),
                                "--qat", "--lr", "3e-4"]) == 0
    qat = load_checkpoint(tmp_path / "qat.pt")
    assert qat["compression"]["qat"] is True
    assert qat["compression"]["structured_pruning"] == 0.5  # earlier stages' facts are kept
    assert qat["size"]["nonzero_parameters"] == pruned["size"]["nonzero_parameters"]  # and so are their zeros
    model = model_from_checkpoint(qat)
    assert all(type(m) is torch.nn.Conv2d for m in model.modules() if isinstance(m, torch.nn.Conv2d))


@pytest.mark.parametrize(("argv", "message"), [
    (["--data", "/nonexistent/data", "--out", "{tmp}/m.pt"], "no such folder"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--qat"], "--init"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--resume"], "nothing to resume"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--init", "{tmp}/garbage.pt"], "not a readable checkpoint"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--init", "{tmp}/code.pt"], "pickled code"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--init", "{tmp}/foreign.pt"], "not an asc-edge checkpoint"),
    (["--data", "{data}", "--out", "{tmp}/exists.pt"], "exists; pass --resume"),
    (["--data", "{data}", "--out", "{tmp}/m.pt", "--device", "cuda"], "no CUDA GPU"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tiny_synth, tmp_path, capsys) -> None:
    (tmp_path / "garbage.pt").write_bytes(b"\x00not a checkpoint" * 10)
    (tmp_path / "exists.pt").write_bytes(b"precious")
    torch.save({"format": "asc-edge-checkpoint", "bad": np.zeros(2)}, tmp_path / "code.pt")  # numpy: pickled
    save_atomic({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    if "--device" in argv and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    argv = [a.format(tmp=tmp_path, data=tiny_synth) for a in argv] + ["--quiet", "--frontend", "small"]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "m.pt").exists()
    assert (tmp_path / "exists.pt").read_bytes() == b"precious"


def test_teacher_with_another_frontend_is_refused(trained: dict, tmp_path: Path, capsys) -> None:
    argv = ["--data", str(trained["data"]), "--out", str(tmp_path / "m.pt"), "--frontend", "dcase", "--quiet",
            "--teacher", str(trained["out"]), "--cache-dir", str(tmp_path / "cache")]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    assert "frontend" in capsys.readouterr().err


def test_torchrun_with_two_cpu_ranks_writes_one_checkpoint(tiny_synth: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_synth, data)
    out = tmp_path / "ddp.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "asc_edge.train.cli", "--data", str(data), "--out", str(out), "--preset", "tiny",
               "--epochs", "1", "--device", "cpu", "--quiet", "--frontend", "small", "--batch-size", "8"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.glob("ddp*.pt")) == ["ddp.best.pt", "ddp.pt"]
    checkpoint = load_checkpoint(out)
    total = 1 + TrainSettings.qat_epochs  # the default QAT epochs run under DDP too
    assert checkpoint["training"]["epoch"] == total
    assert done.stdout.count(f"epoch 1/{total}") == 1  # only rank 0 reports


def test_translation_augments_only_reference_device_clips(tiny_synth: Path, tmp_path: Path) -> None:
    from asc_edge.audio.profiles import get_profile
    from asc_edge.train.augment import AugmentConfig
    from asc_edge.train.data import load_training_data
    from asc_edge.train.translator import fit_translator

    cache = tmp_path / "cache"
    translator = fit_translator(load_training_data(tiny_synth, get_profile("small"), cache, progress=False))
    save_atomic(translator.to_dict(), tmp_path / "translator.pt")
    settings = TrainSettings(data=str(tiny_synth), out=str(tmp_path / "m.pt"), preset="tiny", cache_dir=str(cache),
                             translator=str(tmp_path / "translator.pt"), translate_prob=1.0, spec_augment=False,
                             augment=AugmentConfig(mixup_alpha=0.0, roll_fraction=0.0), **FAST)
    trainer = Trainer(settings, log=lambda line: None)
    positions = np.arange(len(trainer.data.train))
    x, _, _ = trainer._batch(positions, np.random.default_rng(0), torch.Generator().manual_seed(0))
    clean = trainer.data.batch(trainer.data.train.rows)
    changed = (x - clean).abs().amax(dim=(1, 2, 3)) > 1e-3
    is_reference = torch.tensor([d == "a" for d in trainer.data.train.devices])
    assert torch.equal(changed, is_reference)
