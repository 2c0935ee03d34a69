"""Build the firmware (asc_edge/mcu/firmware/main.cc) for a model and a clip, for Cortex-M4F or the host, and
run it: on QEMU's mps2-an386 with ``-icount shift=0`` (a deterministic instruction count), or natively."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from asc_edge.export.c_frontend.cmsis import CMSIS_DSP_INCLUDES, CMSIS_DSP_SOURCES, CMSIS_DSP_VERSION
from asc_edge.mcu.build import M4_FLAGS, Library, Target
from asc_edge.mcu.tree import McuError, cache_home

CMSIS_DSP_ENV = "ASC_CMSIS_DSP"
QEMU = "qemu-system-arm"
QEMU_ARGS = ("-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none", "-semihosting-config",
             "enable=on,target=native", "-icount", "shift=0", "-kernel")
# The frontend's float steps must round as the host's and Python's do: no fused multiply-add.
FRONTEND_C_FLAGS = ("-std=c99", "-O2", "-ffp-contract=off", "-D__GNUC_PYTHON__", "-ffunction-sections",
                    "-fdata-sections")
M4_ARCH = tuple(flag for flag in M4_FLAGS if flag.startswith("-m"))


def firmware_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("firmware")))


def cmsis_dsp_dir() -> Path:
    """CMSIS-DSP's sources (the generated frontend's FFT): ``ASC_CMSIS_DSP`` or ``.cmsis-dsp/cmsisdsp-<v>``
    under the current folder (where scripts/setup.sh unpacks them)."""
    path = Path(os.environ.get(CMSIS_DSP_ENV) or Path(".cmsis-dsp") / f"cmsisdsp-{CMSIS_DSP_VERSION}")
    if not (path / CMSIS_DSP_SOURCES[0]).is_file():
        raise McuError(f"no CMSIS-DSP {CMSIS_DSP_VERSION} sources at {path} (set {CMSIS_DSP_ENV}; "
                       "scripts/setup.sh fetches them)")
    return path


def clip_header(samples: np.ndarray) -> str:
    """``asc_clip.h``: the 16-bit clip compiled into the firmware as its microphone."""
    values = samples.astype(np.int16)
    rows = ",\n".join("  " + ", ".join(map(str, values[i:i + 16].tolist())) for i in range(0, values.size, 16))
    return (f"#include <stdint.h>\n#define ASC_CLIP_SAMPLES {values.size}u\n"
            f"static const int16_t kAscClip[ASC_CLIP_SAMPLES] = {{\n{rows}\n}};\n")


def _run(command: list[str], what: str) -> None:
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        lines = [line for line in run.stderr.splitlines() if "undefined reference" in line or "error" in line]
        lines = lines or run.stderr.splitlines()[-1:] or ["?"]
        lines.sort(key=lambda line: "undefined reference" not in line)  # the first missing symbol says most
        raise McuError(f"{what} failed: {lines[0].strip()}")


def build_firmware(c_dir: Path, clip: np.ndarray, target: Target, library: Library, out: Path,
                   print_input: bool = False) -> Path:
    """Compile main.cc + its board, the generated frontend and model array in ``c_dir`` and CMSIS-DSP, and link
    them with ``library``; returns the ELF (Cortex-M4F) or the executable (host). A ``.map`` lies beside it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "asc_clip.h").write_text(clip_header(clip))
    fw, dsp = firmware_dir(), cmsis_dsp_dir()
    cc, cxx, _ = target.tools
    arch = list(M4_ARCH) if target.cortex_m else []
    c_inc = [f"-I{c_dir}", f"-I{fw}", f"-I{out}", *(f"-I{dsp / inc}" for inc in CMSIS_DSP_INCLUDES)]
    cxx_flags = ["-O2", *library.cxx_flags, f"-I{c_dir}", f"-I{fw}", f"-I{out}", "-ffunction-sections",
                 "-fdata-sections", *(["-DASC_PRINT_INPUT"] if print_input else [])]
    board = fw / ("board_an386.c" if target.cortex_m else "board_host.c")
    objects = []
    # CMSIS-DSP's objects do not depend on the model: cached beside TFLM's, keyed by the sources and flags
    key = hashlib.sha256("\0".join([str(dsp.resolve()), CMSIS_DSP_VERSION, cc, *arch, *FRONTEND_C_FLAGS])
                         .encode()).hexdigest()[:20]
    dsp_cache = cache_home() / "cmsis-dsp" / key
    dsp_cache.mkdir(parents=True, exist_ok=True)
    for source in [c_dir / "asc_frontend.c", board, *(dsp / s for s in CMSIS_DSP_SOURCES)]:
        cached = source.is_relative_to(dsp)
        obj = (dsp_cache if cached else out) / (source.stem + ".o")
        if not (cached and obj.is_file()):
            partial = obj.with_name(f"{obj.name}.{os.getpid()}.partial")
            _run([cc, *arch, *FRONTEND_C_FLAGS, *c_inc, "-c", str(source), "-o", str(partial)],
                 f"compiling {source.name}")
            partial.rename(obj)
        objects.append(obj)
    for source in [c_dir / "model_int8.cc", fw / "main.cc"]:
        obj = out / (source.stem + ".o")
        _run([cxx, *cxx_flags, "-c", str(source), "-o", str(obj)], f"compiling {source.name}")
        objects.append(obj)
    binary = out / ("firmware.elf" if target.cortex_m else "firmware")
    link = [cxx, *arch, "-Wl,--gc-sections", f"-Wl,-Map={out / 'firmware.map'}", *map(str, objects),
            str(library.archive), "-lm", "-o", str(binary)]
    if target.cortex_m:
        link[1:1] = ["--specs=rdimon.specs", "-nostartfiles", "-T", str(fw / "an386.ld")]
    _run(link, f"linking the {target.name} firmware")
    return binary


@dataclass
class FirmwareRun:
    """What a firmware printed: per window the label and int8 outputs (and input tensors when printed), the
    instructions of the frontend and of Invoke, TFLM's arena use and the stack's high-water mark."""

    labels: list[str] = field(default_factory=list)
    outputs: list[list[int]] = field(default_factory=list)
    inputs: list[list[int]] = field(default_factory=list)
    frontend_instructions: list[int] = field(default_factory=list)
    invoke_instructions: list[int] = field(default_factory=list)
    arena_used_bytes: int = 0
    arena_bytes: int = 0
    stack_bytes: int = 0


_WINDOW = re.compile(r"^window (\d+) label (\d+) (\S+) outputs ((?:-?\d+ )+)frontend_instructions (\d+) "
                     r"invoke_instructions (\d+)$")


def parse_output(text: str) -> FirmwareRun:
    run = FirmwareRun()
    for line in text.splitlines():
        words = line.split()
        if line.startswith("arena_used_bytes "):
            run.arena_used_bytes, run.arena_bytes = int(words[1]), int(words[3])
        elif line.startswith("input "):
            run.inputs.append([int(v) for v in words[2:]])
        elif line.startswith("windows "):
            run.stack_bytes = int(words[3])
        elif (match := _WINDOW.match(line)) is not None:
            run.labels.append(match.group(3))
            run.outputs.append([int(v) for v in match.group(4).split()])
            run.frontend_instructions.append(int(match.group(5)))
            run.invoke_instructions.append(int(match.group(6)))
    return run


def qemu_missing() -> str | None:
    return None if shutil.which(QEMU) else f"{QEMU} is not installed (apt-get install qemu-system-arm)"


def run_firmware(binary: Path, target: Target, timeout: float = 600) -> FirmwareRun:
    """Run the firmware to its end; :class:`McuError` with its last line when it fails."""
    if target.cortex_m:
        missing = qemu_missing()
        if missing:
            raise McuError(missing)
        command = [QEMU, *QEMU_ARGS, str(binary)]
    else:
        command = [str(binary)]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise McuError(f"{binary.name} on {target.name} did not finish in {timeout:g} s") from None
    if run.returncode != 0:
        last = (run.stdout + run.stderr).strip().splitlines()[-1:] or ["no output"]
        raise McuError(f"{binary.name} on {target.name} exited {run.returncode}: {last[0]}")
    return parse_output(run.stdout)
