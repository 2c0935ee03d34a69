"""``asc-bench MODEL --mcu qemu-cortex-m4``: the model's firmware built and run on an emulated Cortex-M4F with
CMSIS-NN and with reference kernels, and on the host with reference kernels; per window the label and int8
outputs, whether they equal the host's and the Python ``tflite_micro`` interpreter's on the same input
tensors, the flash and RAM the part needs, TFLM's arena measured on the 32-bit target, and instructions per
window (QEMU -icount: a proxy, not cycles)."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from asc_edge.mcu.build import HOST_REFERENCE, M4_CMSIS_NN, M4_REFERENCE, Target, build_library, tools_missing
from asc_edge.mcu.firmware import FirmwareRun, build_firmware, cmsis_dsp_dir, qemu_missing, run_firmware
from asc_edge.mcu.tree import McuError, tflm_tree

BOARDS = ("qemu-cortex-m4",)
DEFAULT_CLIP_WINDOWS = 2


def check_prerequisites() -> None:
    """One line for the first thing missing: the tree, a compiler, QEMU, CMSIS-DSP."""
    tflm_tree()
    for target in (M4_CMSIS_NN, HOST_REFERENCE):
        missing = tools_missing(target)
        if missing:
            raise McuError(missing)
    missing = qemu_missing()
    if missing:
        raise McuError(missing)
    cmsis_dsp_dir()


def default_clip(window_samples: int) -> np.ndarray:
    """Two windows of seeded noise under a tone: any audio gives the same figures (they depend on the graph
    and the window, not on the sound); the outputs are only compared between builds."""
    rng = np.random.default_rng(0)
    n = DEFAULT_CLIP_WINDOWS * window_samples
    tone = 4000 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)
    return np.clip(np.round(tone + rng.normal(0, 3000, n)), -32768, 32767).astype(np.int16)


def clip_samples(wav: str, sample_rate: int) -> np.ndarray:
    from asc_edge.audio.io import read_audio

    samples = read_audio(wav, sample_rate).samples
    return np.clip(np.round(samples.astype(np.float64) * 32768), -32768, 32767).astype(np.int16)


def _elf_sizes(elf: Path) -> dict[str, int]:
    words = subprocess.run(["arm-none-eabi-size", "-B", str(elf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[1].split()
    return {"text": int(words[0]), "data": int(words[1]), "bss": int(words[2])}


def _symbol_bytes(elf: Path, name: str) -> int:
    """Bytes of one symbol (the compiled-in test clip, which a device's flash would not hold)."""
    for line in subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        words = line.split()
        if len(words) == 4 and words[3] == name:
            return int(words[1], 16)
    raise McuError(f"{elf.name}: no symbol {name}")


def _header_value(header: Path, name: str) -> int:
    match = re.search(rf"#define {name} (\d+)", header.read_text())
    if match is None:
        raise McuError(f"{header}: no {name}")
    return int(match.group(1))


def _python_outputs(data: bytes, inputs: list[list[int]], shape: list[int]) -> list[list[int]]:
    """The tflite_micro wheel's outputs for the same input tensors (its reference kernels)."""
    from asc_edge.export.tflm import load

    interpreter = load(data).interpreter
    outputs = []
    for tensor in inputs:
        interpreter.set_input(np.array(tensor, dtype=np.int8).reshape(shape), 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0).reshape(-1).astype(int).tolist())
    return outputs


def _build_and_run(c_dir: Path, clip: np.ndarray, target: Target, ops: list[str], work: Path,
                   root: Path, digest: str, timings: dict) -> tuple[FirmwareRun, Path]:
    started = time.monotonic()
    library = build_library(root, digest, target, ops)
    timings[f"{target.name}_library_s"] = round(time.monotonic() - started, 1)
    timings[f"{target.name}_compiled_objects"] = library.compiled
    binary = build_firmware(c_dir, clip, target, library, work / target.name, print_input=not target.cortex_m)
    return run_firmware(binary, target), binary


def mcu_bench(model: str, board: str, wav: str | None = None) -> dict:
    """Build, run and compare; the ``mcu`` block of ``asc-bench --json``."""
    from asc_edge.export.c_frontend.of_file import c_files_of_model
    from asc_edge.export.flatbuffer import io_details, op_histogram
    from asc_edge.modelfile.read import read_model_file

    if board not in BOARDS:
        raise McuError(f"unknown board {board!r}: {', '.join(BOARDS)}")
    check_prerequisites()
    data, card = read_model_file(model)
    card_dict = card.to_dict()
    root, digest = tflm_tree()
    ops = sorted(op_histogram(data))
    timings: dict = {}
    with tempfile.TemporaryDirectory(prefix="asc-mcu-") as tmp:
        work = Path(tmp)
        c_dir = work / "c"
        c_files_of_model(model, str(c_dir))
        window = int(card_dict["window"]["samples"])
        rate = int(card_dict["frontend_config"]["sample_rate"])
        clip = clip_samples(wav, rate) if wav else default_clip(window)
        if clip.size < window:
            raise McuError(f"the clip has {clip.size} samples, shorter than the model's window ({window})")
        host, _ = _build_and_run(c_dir, clip, HOST_REFERENCE, ops, work, root, digest, timings)
        cmsis, elf = _build_and_run(c_dir, clip, M4_CMSIS_NN, ops, work, root, digest, timings)
        reference, _ = _build_and_run(c_dir, clip, M4_REFERENCE, ops, work, root, digest, timings)
        sizes = _elf_sizes(elf)
        sizes["text"] -= _symbol_bytes(elf, "_ZL8kAscClip")  # the clip is test input, not firmware
        frontend_ram = _header_value(c_dir / "asc_frontend.h", "ASC_MCU_FRONTEND_RAM_BYTES")
    shape = list(io_details(data)["input"]["shape"])
    python = _python_outputs(data, host.inputs, shape)
    return {
        "board": board, "windows": len(cmsis.labels), "labels": cmsis.labels, "outputs": cmsis.outputs,
        "outputs_equal_host": cmsis.outputs == host.outputs,
        "reference_kernels_equal_host": reference.outputs == host.outputs,
        "host_equal_python_tflite_micro": host.outputs == python,
        "flash_bytes": sizes["text"] + sizes["data"], "model_bytes": len(data),
        "code_bytes": sizes["text"] + sizes["data"] - len(data),
        "ram_bytes": cmsis.arena_used_bytes + frontend_ram + cmsis.stack_bytes,
        "arena_bytes": cmsis.arena_used_bytes, "arena_buffer_bytes": cmsis.arena_bytes,
        "frontend_ram_bytes": frontend_ram, "stack_bytes": cmsis.stack_bytes,
        "static_ram_bytes": sizes["data"] + sizes["bss"],
        "instructions_per_window": {
            "cmsis_nn": {"frontend": _mean(cmsis.frontend_instructions), "invoke": _mean(cmsis.invoke_instructions)},
            "reference": {"frontend": _mean(reference.frontend_instructions),
                          "invoke": _mean(reference.invoke_instructions)},
        },
        "instructions_note": "QEMU -icount shift=0 instruction counts (to 40 instructions): a proxy for time, "
                             "not cycles (no pipeline, wait states or memory timing)",
        "build": timings,
    }


def _mean(values: list[int]) -> int:
    return int(round(sum(values) / len(values))) if values else 0


def mcu_lines(result: dict) -> list[str]:
    """The human-readable report."""
    ipw = result["instructions_per_window"]
    lines = [f"{result['board']}: {result['windows']} windows; outputs equal the host's reference kernels: "
             f"{'yes' if result['outputs_equal_host'] else 'NO'} (CMSIS-NN), "
             f"{'yes' if result['reference_kernels_equal_host'] else 'NO'} (reference kernels on the M4); host = "
             f"Python tflite_micro: {'yes' if result['host_equal_python_tflite_micro'] else 'NO'}"]
    for i, (label, outputs) in enumerate(zip(result["labels"], result["outputs"])):
        lines.append(f"  window {i}: {label}  int8 outputs {' '.join(map(str, outputs))}")
    lines += [
        f"  flash {result['flash_bytes']:,} B (model {result['model_bytes']:,} + code and tables "
        f"{result['code_bytes']:,})",
        f"  RAM {result['ram_bytes']:,} B = TFLM arena {result['arena_bytes']:,} (arena_used_bytes on the M4) + "
        f"frontend {result['frontend_ram_bytes']:,} + stack {result['stack_bytes']:,} (high-water mark)",
        f"  instructions per window (QEMU icount, a proxy for time): CMSIS-NN invoke {ipw['cmsis_nn']['invoke']:,}"
        f", reference kernels invoke {ipw['reference']['invoke']:,}; frontend {ipw['cmsis_nn']['frontend']:,}",
    ]
    return lines
