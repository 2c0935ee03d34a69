"""Converter-faithful QAT: the checkpoint's int8 simulation is a model of the exported file.

Real parts only: the tiny model trained by asc-train's defaults (float epochs, then QAT epochs of the int8
simulation), the real converter (onnx2tf, TensorFlow's MLIR quantizer), LiteRT and TFLite Micro.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from asc_edge.export.cli import main
from asc_edge.export.fidelity import int8_logits
from asc_edge.export.prepare import exportable_model, graph_inputs, split_input_norm
from asc_edge.export.tflm import load as tflm_load
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.train.checkpoint import frontend_of, load_checkpoint, model_from_checkpoint
from asc_edge.train.data import load_training_data
from asc_edge.train.int8_exact import exact_logits
from asc_edge.train.int8_sim import RECORD_KEY, affine_qparams, simulation_of_checkpoint


@pytest.fixture(scope="module")
def qat_export(tiny_checkpoint: Path, tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    checkpoint = load_checkpoint(tiny_checkpoint)
    assert RECORD_KEY in checkpoint and checkpoint["compression"]["qat"]  # asc-train's default ends in QAT
    out = tmp_path_factory.mktemp("qat_export") / "out"
    code = run_cli(main, [str(tiny_checkpoint), "-o", str(out), "--calib", str(tiny_synth), "--quiet"],
                   prog="asc-export")
    report = json.loads((out / "export_report.json").read_text())
    assert code == 0, report["failures"]  # the default gates, pure int8
    data = load_training_data(tiny_synth, frontend_of(checkpoint), progress=False)
    features = data.batch(data.evaluate.rows).numpy()
    simulation = simulation_of_checkpoint(checkpoint, model_from_checkpoint(checkpoint), str(tiny_checkpoint))
    simulated = exact_logits(simulation, features)  # what asc-export compares the file with
    with torch.no_grad():
        in_float32 = simulation(torch.from_numpy(features)).numpy()  # what training evaluates
    out_scale = affine_qparams(*simulation.ranges["logits"])[0]
    # float32 sums round a few values to the neighbouring step: measured at most 1.0 output LSB on this model
    # (mean 0.0006), 4 on the dcase student of seed 2 (train/int8_exact.py).
    assert np.abs(in_float32 - simulated).max() <= 2.01 * out_scale
    _, spec = split_input_norm(exportable_model(checkpoint))
    return {"report": report, "tflite": (out / "model_int8.tflite").read_bytes(), "simulation": simulation,
            "simulated": simulated, "graph_inputs": graph_inputs(features, spec)}


def test_the_file_holds_the_checkpoints_ranges(qat_export: dict) -> None:
    from ai_edge_litert.interpreter import Interpreter

    report, simulation = qat_export["report"], qat_export["simulation"]
    assert report["settings"]["ranges"] == "checkpoint"
    io = report["io"]
    for side, point in (("input", "input"), ("output", "logits")):
        scale, zero_point = affine_qparams(*simulation.ranges[point])
        assert io[side]["scale"] == pytest.approx(scale, rel=1e-6) and io[side]["zero_point"] == zero_point
    interpreter = Interpreter(model_content=qat_export["tflite"])
    in_file = {(float(d["quantization"][0]), int(d["quantization"][1]))
               for d in interpreter.get_tensor_details() if d["quantization"][0] > 0}
    # Every range the checkpoint recorded is a (scale, zero point) of some tensor of the file: nothing recalibrated.
    # The quantizer rounds the scale to float32 on its own path: equal to within one float32 step (1.2e-7).
    for name, (low, high) in simulation.ranges.items():
        scale, zero_point = affine_qparams(low, high)
        assert any(z == zero_point and abs(s - scale) <= 2e-7 * scale for s, z in in_file), name


def test_the_simulation_predicts_the_files_decisions(qat_export: dict) -> None:
    simulated, inputs, tflite = qat_export["simulated"], qat_export["graph_inputs"], qat_export["tflite"]
    out_scale = affine_qparams(*qat_export["simulation"].ranges["logits"])[0]
    litert = int8_logits(tflite, inputs)
    agreement = float(np.mean(litert.argmax(1) == simulated.argmax(1)))
    largest_lsb = float(np.abs(litert - simulated).max() / out_scale)
    print(f"\nsimulation vs LiteRT: top-1 {100 * agreement:.1f} % of {len(inputs)} clips, "
          f"largest logit difference {largest_lsb:.1f} output LSB")
    assert agreement >= 0.99
    assert qat_export["report"]["fidelity"]["reference"] == "int8 simulation (QAT checkpoint)"
    assert qat_export["report"]["fidelity"]["top1_agreement"] == pytest.approx(agreement)
    micro = tflm_load(tflite).logits(inputs)  # TFLite Micro's reference kernels: reported beside it
    micro_agreement = float(np.mean(micro.argmax(1) == simulated.argmax(1)))
    print(f"simulation vs TFLite Micro: top-1 {100 * micro_agreement:.1f} %, largest logit difference "
          f"{float(np.abs(micro - simulated).max() / out_scale):.1f} output LSB")
    assert qat_export["report"]["tflm"]["fidelity_tflm"]["top1_agreement"] == pytest.approx(micro_agreement)


def test_a_checkpoint_whose_ranges_do_not_match_its_graph_is_refused(tiny_checkpoint: Path, tiny_synth: Path,
                                                                     tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    checkpoint = load_checkpoint(tiny_checkpoint)
    ranges = checkpoint[RECORD_KEY]["ranges"]
    dropped = next(name for name in ranges if name.endswith(".temporal"))
    edited = dict(checkpoint, **{RECORD_KEY: {**checkpoint[RECORD_KEY],
                                              "ranges": {k: v for k, v in ranges.items() if k != dropped}}})
    path = tmp_path / "edited.pt"
    torch.save(edited, path)
    out = tmp_path / "out"
    code = run_cli(main, [str(path), "-o", str(out), "--calib", str(tiny_synth), "--quiet"], prog="asc-export")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and dropped in err[0]
    assert not (out / "model_int8.tflite").exists()


def test_qat_epochs_follow_the_float_epochs_and_no_qat_gives_a_float_checkpoint(tiny_synth: Path,
                                                                              tmp_path: Path) -> None:
    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    common = {"data": str(tiny_synth), "preset": "tiny", "frontend": "small", "epochs": 1, "batch_size": 16,
              "progress": False, "cache_dir": str(tmp_path / "cache")}
    runs = {"default": {}, "calibrate only": {"qat_epochs": 0}, "no qat": {"simulate_int8": False}}
    stored = {}
    for name, extra in runs.items():
        out = tmp_path / f"{name.replace(' ', '_')}.pt"
        train(TrainSettings(out=str(out), **common, **extra), log=lambda line: None)
        stored[name] = load_checkpoint(out)
    default = stored["default"]
    assert [r["int8_simulation"] for r in default["training"]["history"]] == [False, True, True, True]
    assert default["metrics_float"]["accuracy"] == default["training"]["history"][0]["eval_accuracy"]
    calibrated = stored["calibrate only"]
    assert RECORD_KEY in calibrated and len(calibrated["training"]["history"]) == 1
    assert RECORD_KEY not in stored["no qat"] and not stored["no qat"]["compression"]["qat"]
    # The recorded ranges are the simulation the run evaluated: evaluating it again gives the stored accuracy.
    from asc_edge.train.data import load_training_data
    from asc_edge.train.evaluate import evaluate_split

    data = load_training_data(tiny_synth, frontend_of(calibrated), str(tmp_path / "cache"), progress=False)
    simulation = simulation_of_checkpoint(calibrated, model_from_checkpoint(calibrated))
    again = evaluate_split(simulation, data, data.evaluate, torch.device("cpu"))
    assert again["accuracy"] == pytest.approx(calibrated["metrics"]["accuracy"])


def test_a_relu6_model_exports_with_relu6_fused_and_the_simulation_predicts_its_file(tiny_synth: Path,
                                                                                   tmp_path: Path) -> None:
    """The bounded-activation lever (ModelConfig.relu6): the converter fuses every ReLU6 into the op before it,
    the points' ranges stay within [0, 6], and the simulation still predicts the file."""
    from ai_edge_litert.interpreter import Interpreter

    from asc_edge.train.settings import TrainSettings
    from asc_edge.train.trainer import train

    path = tmp_path / "relu6.pt"
    train(TrainSettings(data=str(tiny_synth), out=str(path), preset="tiny", frontend="small", epochs=1,
                        batch_size=16, progress=False, cache_dir=str(tmp_path / "cache"),
                        model_overrides={"relu6": True}), log=lambda line: None)
    checkpoint = load_checkpoint(path)
    assert checkpoint["model_config"]["relu6"]
    bounded = [high for name, (_, high) in checkpoint[RECORD_KEY]["ranges"].items()
               if name == "stem" or name.endswith((".expand", ".temporal_relu", ".out"))]
    assert bounded and max(bounded) <= 6.0
    out = tmp_path / "out"
    code = run_cli(main, [str(path), "-o", str(out), "--calib", str(tiny_synth), "--quiet"], prog="asc-export")
    report = json.loads((out / "export_report.json").read_text())
    assert code == 0, report["failures"]
    assert report["fidelity"]["top1_agreement"] >= 0.99
    interpreter = Interpreter(model_content=(out / "model_int8.tflite").read_bytes())
    ops = {d["op_name"] for d in interpreter._get_ops_details()}
    assert not ops & {"RELU6", "RELU", "MINIMUM", "MAXIMUM"}  # fused into CONV_2D, DEPTHWISE_CONV_2D and ADD
