"""``--npu``: the int8 file compiled for an Arm Ethos-U NPU by the real Vela compiler (a child process)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from asc_edge.export.cli import main
from asc_edge.export.flatbuffer import op_histogram
from asc_edge.export.npu import compile_for_npu, require_vela
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.plumbing.errors import ExportError
from asc_edge.runtime.default_model import __file__ as _default_model_init

PACKAGED = Path(_default_model_init).with_name("synth_student_int8.tflite")
needs_vela = pytest.mark.skipif(importlib.util.find_spec("ethosu") is None,
                                reason="Vela is not installed (pip install 'asc-edge[npu]'; CI installs it)")


@needs_vela
@pytest.mark.parametrize("accelerator", ["ethos-u55-128", "ethos-u65-256"])
def test_vela_compiles_the_packaged_file(accelerator: str) -> None:
    figures, compiled = compile_for_npu(PACKAGED.read_bytes(), accelerator)
    assert figures["accelerator"] == accelerator and figures["npu_operators"] > 0
    assert figures["cpu_operators"] == 0  # every operator of this graph is supported on the NPU
    assert figures["sram_bytes"] > 0 and figures["weights_storage_bytes"] > 0
    assert 0 < figures["inference_time_ms"] < 1000 and figures["cycles_total"] > 0
    assert compiled[4:8] == b"TFL3" and len(compiled) == figures["compiled_file_bytes"]
    # The NPU part becomes one custom operator that TFLite Micro hands to the Ethos-U driver.
    assert "CUSTOM:ethos-u" in op_histogram(compiled)


@needs_vela
def test_info_prints_npu_figures(capsys: pytest.CaptureFixture) -> None:
    assert run_cli(main, ["--info", str(PACKAGED), "--npu", "ethos-u55-256"], prog="asc-export") == 0
    out = capsys.readouterr().out
    assert "NPU             ethos-u55-256" in out and "ms per window" in out


@needs_vela
def test_a_file_vela_cannot_compile_is_one_line() -> None:
    # Vela itself segfaults on this truncated file: the child process keeps asc-export alive.
    with pytest.raises(ExportError) as caught:
        compile_for_npu(PACKAGED.read_bytes()[:5000], "ethos-u55-128")
    assert str(caught.value).startswith("Vela could not compile the file") and "\n" not in str(caught.value)


def test_missing_vela_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ethosu", None)  # what an environment without the npu extra looks like
    with pytest.raises(ExportError, match=r"asc-edge\[npu\]"):
        require_vela()


def test_an_unknown_accelerator_is_refused_by_the_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as caught:  # argparse's own refusal: usage plus one error line, exit 2
        main(["--info", str(PACKAGED), "--npu", "ethos-u99"])
    assert caught.value.code == 2 and "ethos-u55-128" in capsys.readouterr().err
