"""Compile the part of a TFLite Micro tree a model needs, for Cortex-M4F (CMSIS-NN or reference kernels) or
the host (reference kernels), every object cached under the user cache home keyed by the tree's digest and
the flags, so a second build of any model only compiles what it has not compiled before."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from asc_edge.mcu.sources import model_sources
from asc_edge.mcu.tree import McuError, cache_home

# The tree's own flags (its BUILD.md and Makefile): framework -Os, kernels and CMSIS-NN -O2.
COMMON_FLAGS = ("-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-ffunction-sections", "-fdata-sections",
                "-fmessage-length=0", "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON",
                "-DKERNELS_OPTIMIZED_FOR_SPEED")
CXX_ONLY = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", "-Wno-unused-parameter")
C_ONLY = ("-std=c17",)
M4_FLAGS = ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb", "-mlittle-endian",
            "-funsigned-char", "-fomit-frame-pointer", "-DTF_LITE_MCU_DEBUG_LOG", "-DCPU_M4=1", "-DARMCM4",
            '-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"', "-DCMSIS_NN", "-DARM_NN_ENABLE_F16=0",
            "-DARM_NN_ENABLE_F32=0")
INCLUDES = (".", "third_party", "third_party/gemmlowp", "third_party/flatbuffers/include", "third_party/kissfft",
            "third_party/ruy")
M4_INCLUDES = ("third_party/cmsis/Cortex_DFP/Device/ARMCM4/Include", "third_party/cmsis/CMSIS/Core/Include",
               "third_party/cmsis", "third_party/cmsis_nn", "third_party/cmsis_nn/Include")
ARM_PREFIX = "arm-none-eabi-"
JOBS = 2  # the machines this runs on are small and shared


@dataclass(frozen=True)
class Target:
    """A build flavour: ``cortex_m4f`` with CMSIS-NN or reference kernels, or ``host`` (reference)."""

    name: str
    cortex_m: bool
    cmsis_nn: bool

    @property
    def tools(self) -> tuple[str, str, str]:
        prefix = ARM_PREFIX if self.cortex_m else ""
        return f"{prefix}gcc", f"{prefix}g++", f"{prefix}ar"

    def flags(self) -> tuple[str, ...]:
        return COMMON_FLAGS + (M4_FLAGS if self.cortex_m else ("-DTF_LITE_USE_CTIME",))

    def includes(self, root: Path) -> list[str]:
        return [f"-I{root / inc}" for inc in INCLUDES + (M4_INCLUDES if self.cortex_m else ())]


M4_CMSIS_NN = Target("cortex_m4f_cmsis_nn", True, True)
M4_REFERENCE = Target("cortex_m4f_reference", True, False)
HOST_REFERENCE = Target("host_reference", False, False)


def tools_missing(target: Target) -> str | None:
    """Why ``target`` cannot be built here (its compiler is not on PATH), or None."""
    for tool in target.tools:
        if shutil.which(tool) is None:
            hint = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib" \
                if target.cortex_m else "install a C++17 compiler"
            return f"{tool} is not installed ({hint})"
    return None


@dataclass
class Library:
    """The compiled objects: ``archive`` (framework + kernels, for the linker to pick from) and the flags an
    application compiles with against the tree; ``compiled`` counts the objects not found in the cache."""

    archive: Path
    cxx_flags: list[str]
    compiled: int = 0
    seconds: float = 0.0
    objects: list[Path] = field(default_factory=list)


def _compile(command: list[str], obj: Path) -> str | None:
    obj.parent.mkdir(parents=True, exist_ok=True)
    partial = obj.with_name(f"{obj.name}.{os.getpid()}.{threading.get_ident()}.partial")  # builds may overlap
    run = subprocess.run([*command, "-o", str(partial)], capture_output=True, text=True)
    if run.returncode != 0:
        return run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"
    partial.rename(obj)  # an interrupted build leaves no object that looks complete
    return None


def build_library(root: Path, digest: str, target: Target, ops: list[str]) -> Library:
    """Compile (or find in the cache) the framework and the kernels ``ops`` need for ``target``."""
    missing = tools_missing(target)
    if missing:
        raise McuError(missing)
    core, kernels = model_sources(root, ops, target.cmsis_nn, target.cortex_m)
    cc, cxx, ar = target.tools
    version = subprocess.run([cc, "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    # CMSIS-NN and reference builds for one core share the framework's objects (same flags); the kernels'
    # objects differ by path (kernels/cmsis_nn/conv.o vs kernels/conv.o)
    machine = "cortex_m4f" if target.cortex_m else "host"
    key = hashlib.sha256("\0".join([digest, machine, version, *target.flags()]).encode()).hexdigest()[:20]
    out = cache_home() / "builds" / f"{machine}-{key}"
    base = [*target.flags(), *target.includes(root)]
    jobs, objects = [], []
    for source, opt in [(s, "-Os") for s in core] + [(s, "-O2") for s in kernels]:
        obj = out / "obj" / (source.rsplit(".", 1)[0] + ".o")
        objects.append(obj)
        if obj.is_file():
            continue
        if source.endswith(".c"):
            jobs.append(([cc, opt, *base, *C_ONLY, "-c", str(root / source)], obj))
        else:
            jobs.append(([cxx, opt, *base, *CXX_ONLY, "-c", str(root / source)], obj))
    started = time.monotonic()
    with ThreadPoolExecutor(JOBS) as pool:
        errors = [(obj, err) for (cmd, obj), err in zip(jobs, pool.map(lambda job: _compile(*job), jobs)) if err]
    if errors:
        obj, err = errors[0]
        raise McuError(f"compiling {obj.relative_to(out / 'obj')} for {target.name} failed: {err}")
    names = "-".join([target.name, *sorted(ops)])
    archive = out / f"libtflm-{hashlib.sha256(names.encode()).hexdigest()[:12]}.a"
    if jobs or not archive.is_file():
        partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
        subprocess.run([ar, "rcs", str(partial), *map(str, objects)], check=True, capture_output=True)
        partial.rename(archive)
    return Library(archive, [*base, *CXX_ONLY], len(jobs), time.monotonic() - started, objects)
