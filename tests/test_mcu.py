"""asc_edge.mcu with real components: TFLite Micro from ASC_TFLM_SRC built for an emulated Cortex-M4F (QEMU
mps2-an386, CMSIS-NN and reference kernels) and for the host (reference kernels), the firmware running the
C frontend and the exported tiny model; outputs compared with each other and with the tflite_micro wheel.

Skipped, with the reason, where ASC_TFLM_SRC, arm-none-eabi-gcc, QEMU or CMSIS-DSP is missing. Figures are
printed (``pytest -s``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import c_build
from asc_edge.bench.cli import main as bench_main
from asc_edge.export.cli import main as export_main
from asc_edge.mcu.sources import model_sources
from asc_edge.mcu.tree import TREE_ENV, McuError, tflm_tree
from asc_edge.plumbing.cli_util import run_cli

RELAXED = ["--min-agreement", "0", "--max-drop", "100", "--max-log-loss-increase", "100"]


def _missing() -> str | None:
    if not os.environ.get(TREE_ENV):
        return f"{TREE_ENV} is not set (a TFLite Micro source tree or tflm-cortex-m-src.tar.gz; .ci/run sets it)"
    for tool in ("arm-none-eabi-g++", "g++"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return c_build.cross_missing()


needs_mcu = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture(scope="module")
def tiny_model(tiny_checkpoint: Path, tiny_synth: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mcu_model") / "out"
    assert run_cli(export_main, [str(tiny_checkpoint), "-o", str(out), "--calib", str(tiny_synth),
                                 "--calibration-clips", "32", "--quiet", *RELAXED], prog="asc-export") == 0
    return out / "model_int8.tflite"


@needs_mcu
def test_firmware_on_cortex_m4_equals_host_reference_and_python(tiny_model: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("ASC_CMSIS_DSP", str(c_build.CMSIS_DIR))
    assert run_cli(bench_main, [str(tiny_model), "--mcu", "qemu-cortex-m4", "--json"], prog="asc-bench") == 0
    mcu = json.loads(capsys.readouterr().out)["mcu"]
    with capsys.disabled():
        print(f"\ntiny model on QEMU mps2-an386: {json.dumps({k: v for k, v in mcu.items() if k != 'outputs'})}")
    assert mcu["windows"] == 2 and len(mcu["outputs"]) == 2 and all(len(o) == 10 for o in mcu["outputs"])
    # CMSIS-NN on the M4 = TFLM's reference kernels on the M4 = on the host = the tflite_micro wheel
    assert mcu["outputs_equal_host"] and mcu["reference_kernels_equal_host"]
    assert mcu["host_equal_python_tflite_micro"]
    assert mcu["flash_bytes"] > mcu["model_bytes"] > 0 and mcu["code_bytes"] > 0
    assert 0 < mcu["arena_bytes"] <= mcu["arena_buffer_bytes"] and mcu["stack_bytes"] > 0
    assert mcu["ram_bytes"] == mcu["arena_bytes"] + mcu["frontend_ram_bytes"] + mcu["stack_bytes"]
    ipw = mcu["instructions_per_window"]
    assert 0 < ipw["cmsis_nn"]["invoke"] < ipw["reference"]["invoke"]
    assert ipw["cmsis_nn"]["frontend"] > 0
    # a second build finds every object in the cache
    assert mcu["build"]["cortex_m4f_cmsis_nn_compiled_objects"] >= 0
    assert run_cli(bench_main, [str(tiny_model), "--mcu", "qemu-cortex-m4", "--json"], prog="asc-bench") == 0
    again = json.loads(capsys.readouterr().out)["mcu"]
    assert all(again["build"][f"{name}_compiled_objects"] == 0
               for name in ("host_reference", "cortex_m4f_cmsis_nn", "cortex_m4f_reference"))
    assert again["outputs"] == mcu["outputs"] and again["instructions_per_window"] == ipw  # deterministic


@pytest.mark.parametrize("value, message", [(None, "is not set"), ("/nonexistent/tflm", "no such file or folder")])
def test_missing_tree_is_one_line(value: str | None, message: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture) -> None:
    if value is None:
        monkeypatch.delenv(TREE_ENV, raising=False)
    else:
        monkeypatch.setenv(TREE_ENV, value)
    assert run_cli(bench_main, ["--mcu", "qemu-cortex-m4"], prog="asc-bench") == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.skipif(not os.environ.get(TREE_ENV), reason=f"{TREE_ENV} is not set")
def test_kernel_selection_is_the_model_ops_only() -> None:
    root, _ = tflm_tree()
    core, kernels = model_sources(root, ["CONV_2D", "ADD"], cmsis_nn=True, cortex_m=True)
    assert "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc" in kernels
    assert "tensorflow/lite/micro/kernels/conv.cc" not in kernels
    assert not any("softmax" in k or "PoolingFunctions" in k for k in kernels)
    assert "tensorflow/lite/micro/micro_interpreter.cc" in core
    reference = model_sources(root, ["CONV_2D", "ADD"], cmsis_nn=False, cortex_m=False)[1]
    assert "tensorflow/lite/micro/kernels/conv.cc" in reference and not any("cmsis" in k for k in reference)
    with pytest.raises(McuError, match="SIGN"):
        model_sources(root, ["SIGN"], cmsis_nn=True, cortex_m=True)


@pytest.mark.skipif(not os.environ.get(TREE_ENV), reason=f"{TREE_ENV} is not set")
def test_missing_compiler_or_clip_misuse_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the cross compiler (nor QEMU)
    assert run_cli(bench_main, ["--mcu", "qemu-cortex-m4"], prog="asc-bench") == 2
    err = capsys.readouterr().err
    assert "arm-none-eabi-gcc is not installed" in err and len(err.strip().splitlines()) == 1, err
    assert run_cli(bench_main, ["--clip", str(tmp_path / "a.wav")], prog="asc-bench") == 2
    err = capsys.readouterr().err
    assert "--clip belongs to --mcu" in err and len(err.strip().splitlines()) == 1, err
