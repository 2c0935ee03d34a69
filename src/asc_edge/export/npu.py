"""``--npu ethos-u55-128``: compile the int8 file for an Arm Ethos-U NPU with Vela and read its estimates.

Vela (``pip install 'asc-edge[npu]'``) runs as a child process: it prints its summary on stdout, writes a
summary CSV with every figure by name and the compiled ``*_vela.tflite``, and it can crash outright on a
malformed file (a segfault was measured on a truncated one), which must not take ``asc-export`` down with it.
Its figures are estimates from Vela's performance model for its default system configuration of that
accelerator (it says so in a warning), not measurements on silicon.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from asc_edge.plumbing.errors import ExportError

EXTRA_HINT = "pip install 'asc-edge[npu]' (Arm's ethos-u-vela compiler)"
# Vela 5.2's --accelerator-config choices.
ACCELERATORS = ("ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u65-512",
                "ethos-u85-128", "ethos-u85-256", "ethos-u85-512", "ethos-u85-1024", "ethos-u85-2048")
COMPILED_NAME = "model_int8_vela.tflite"
TIMEOUT_S = 600
_OPERATORS = re.compile(r"^(CPU|NPU) operators = (\d+)", re.MULTILINE)
_DEFAULTS = re.compile(r"No (system configuration|memory mode) specified\. Using a default of (\S+?)\.")
# Where Vela keeps the weights (its CSV's weights_storage_area) -> the CSV column with the bytes used there.
_STORAGE_COLUMN = {"Off-chip Flash": "off_chip_flash_memory_used", "On-chip Flash": "on_chip_flash_memory_used",
                   "DRAM": "dram_memory_used", "SRAM": "sram_memory_used"}


def require_vela() -> None:
    """Raise one line naming the extra when Vela is not installed (checked before a long export starts)."""
    if importlib.util.find_spec("ethosu") is None or importlib.util.find_spec("ethosu.vela") is None:
        raise ExportError(f"--npu needs Vela, which is not installed: {EXTRA_HINT}")


def _vela_version() -> str:
    from importlib.metadata import version

    return version("ethos-u-vela")


def _failure(done: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines()
             if line.strip() and not line.startswith("Warning: No ")]
    reason = lines[-1] if lines else "no output"
    if done.returncode < 0:
        reason = f"it crashed with signal {-done.returncode}; last output: {reason}"
    return f"Vela could not compile the file ({reason})"


def compile_for_npu(tflite: bytes, accelerator: str) -> tuple[dict, bytes]:
    """``(figures, compiled .tflite)`` for ``accelerator``; raises :class:`ExportError` (one line) when Vela is
    missing, the accelerator unknown or the compile fails."""
    if accelerator not in ACCELERATORS:
        raise ExportError(f"unknown NPU {accelerator!r}; choose one of {', '.join(ACCELERATORS)}")
    require_vela()
    with tempfile.TemporaryDirectory(prefix="asc-vela-") as work:
        source = Path(work) / "model_int8.tflite"
        source.write_bytes(tflite)
        out = Path(work) / "out"
        try:
            done = subprocess.run([sys.executable, "-m", "ethosu.vela", str(source), "--accelerator-config",
                                   accelerator, "--output-dir", str(out)],
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise ExportError(f"Vela did not finish compiling for {accelerator} in {TIMEOUT_S} s") from exc
        compiled = out / "model_int8_vela.tflite"
        summaries = sorted(out.glob("model_int8_summary_*.csv")) if out.is_dir() else []
        if done.returncode != 0 or not compiled.is_file() or not summaries:
            raise ExportError(_failure(done))
        with summaries[0].open(newline="") as handle:
            row = next(csv.DictReader(handle))
        compiled_bytes = compiled.read_bytes()
    counts = {kind: int(n) for kind, n in _OPERATORS.findall(done.stdout)}
    defaults = dict(_DEFAULTS.findall(done.stdout + done.stderr))
    storage = row["weights_storage_area"]
    return {
        "accelerator": accelerator, "vela_version": _vela_version(),
        "system_config": row["system_config"], "memory_mode": row["memory_mode"],
        "default_config_used": bool(defaults),  # Vela's generic defaults, not a board's vela.ini
        "clock_hz": float(row["core_clock"]),
        "npu_operators": counts.get("NPU"), "cpu_operators": counts.get("CPU"),
        "sram_bytes": round(float(row["sram_memory_used"]) * 1024),
        "weights_storage_area": storage,
        "weights_storage_bytes": round(float(row[_STORAGE_COLUMN.get(storage, "off_chip_flash_memory_used")]) * 1024),
        "off_chip_flash_bytes": round(float(row["off_chip_flash_memory_used"]) * 1024),
        "inference_time_ms": 1000.0 * float(row["inference_time"]),
        "cycles_total": int(float(row["cycles_total"])), "nn_macs": int(float(row["nn_macs"])),
        "compiled_file_bytes": len(compiled_bytes),
    }, compiled_bytes


def npu_lines(npu: dict) -> list[str]:
    """The summary's NPU line (``asc-export --npu`` and ``--info --npu``)."""
    return [
        f"  NPU             {npu['accelerator']} (Vela {npu['vela_version']}, {npu['system_config']}, "
        f"{npu['memory_mode']}{', Vela defaults' if npu['default_config_used'] else ''}): "
        f"{npu['npu_operators']} ops on the NPU, {npu['cpu_operators']} on the CPU; "
        f"SRAM {npu['sram_bytes']:,} B, {npu['weights_storage_area']} {npu['weights_storage_bytes']:,} B; "
        f"~{npu['inference_time_ms']:.2f} ms per window at {npu['clock_hz'] / 1e6:.0f} MHz (estimate)",
    ]
