"""Build helpers for the generated C frontend: the host compiler, arm-none-eabi-gcc for QEMU's MPS2-AN386
(Cortex-M4F) and the linker map's flash/RAM per object. Shared by tests/test_c_frontend.py and
scripts/mcu_frontend_facts.py; the CMSIS-DSP sources come from the cmsisdsp source distribution that
scripts/system_packages.sh unpacks into .cmsis-dsp/ (never from the repository)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from asc_edge.export.c_frontend.cmsis import CMSIS_DSP_INCLUDES, CMSIS_DSP_SOURCES, CMSIS_DSP_VERSION
from asc_edge.mcu.firmware import firmware_dir

REPO = Path(__file__).resolve().parents[1]
CMSIS_DIR = Path(os.environ.get("ASC_CMSIS_DSP", REPO / ".cmsis-dsp" / f"cmsisdsp-{CMSIS_DSP_VERSION}"))
BOARD_DIR = Path(__file__).resolve().parent / "c" / "mps2_an386"
FETCH_HINT = "bash scripts/system_packages.sh fetches and unpacks it"
HOST_FLAGS = ("-std=c99", "-Wall", "-Werror", "-O2", "-ffp-contract=off", "-D__GNUC_PYTHON__")
SANITIZE_FLAGS = ("-std=c99", "-Wall", "-Werror", "-O1", "-g", "-ffp-contract=off", "-D__GNUC_PYTHON__",
                  "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
ARM_GCC, QEMU = "arm-none-eabi-gcc", "qemu-system-arm"
ARM_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2", "-std=c99",
             "-Wall", "-Werror", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections", "-D__GNUC_PYTHON__")
QEMU_ARGS = ("-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-semihosting-config",
             "enable=on,target=native", "-kernel")


def cmsis_missing() -> str | None:
    """Why the CMSIS-DSP sources are unusable, or None."""
    if not (CMSIS_DIR / CMSIS_DSP_SOURCES[0]).is_file():
        return f"no CMSIS-DSP {CMSIS_DSP_VERSION} sources at {CMSIS_DIR} ({FETCH_HINT})"
    return None


def cross_missing() -> str | None:
    """Why the Cortex-M toolchain or emulator is unusable, or None."""
    for tool, package in ((ARM_GCC, "gcc-arm-none-eabi libnewlib-arm-none-eabi"), (QEMU, "qemu-system-arm")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package}; scripts/system_packages.sh does)"
    return cmsis_missing()


def _includes(c_dir: Path) -> list[str]:
    return [f"-I{c_dir}", *(f"-I{CMSIS_DIR / inc}" for inc in CMSIS_DSP_INCLUDES)]


# Host checks: a float copy of each window's log-mels (--log-mels), and room for overlapping windows down to a
# hop of one frame on the test models (the default ASC_FRONTEND_MAX_WINDOWS is sized for small MCUs).
CHECK_DEFINES = ("-DASC_FRONTEND_KEEP_LOG_MELS", "-DASC_FRONTEND_MAX_WINDOWS=64")


def build_host(c_dir: Path, out: Path, sanitize: bool = False, main: str = "asc_features_main.c",
               defines: tuple[str, ...] = ()) -> Path:
    """The host program (``main`` + the frontend + CMSIS-DSP) with the system C compiler."""
    sources = [c_dir / "asc_frontend.c", c_dir / main, *(CMSIS_DIR / s for s in CMSIS_DSP_SOURCES)]
    flags = SANITIZE_FLAGS if sanitize else HOST_FLAGS
    subprocess.run(["cc", *flags, *defines, *_includes(c_dir), *map(str, sources), "-lm", "-o", str(out)],
                   check=True, capture_output=True, text=True)
    return out


def build_cortex_m4(c_dir: Path, extra_sources: list[Path], build: Path) -> tuple[Path, Path]:
    """``(elf, map)`` of the frontend, CMSIS-DSP and ``extra_sources`` (a main and its board glue) for QEMU's
    MPS2-AN386, each source its own object so the map attributes every section to its file."""
    build.mkdir(parents=True, exist_ok=True)
    # the start code and linker script are asc_edge.mcu's firmware ones (one copy of the board's bring-up)
    sources = [c_dir / "asc_frontend.c", *extra_sources, firmware_dir() / "board_an386.c",
               *(CMSIS_DIR / s for s in CMSIS_DSP_SOURCES)]
    objects = []
    for source in sources:
        obj = build / (source.stem + ".o")
        subprocess.run([ARM_GCC, *ARM_FLAGS, *_includes(c_dir), f"-I{BOARD_DIR}", f"-I{build}", "-c", str(source),
                        "-o", str(obj)], check=True, capture_output=True, text=True)
        objects.append(obj)
    elf, link_map = build / "frontend_m4.elf", build / "frontend_m4.map"
    linker_script = firmware_dir() / "an386.ld"
    subprocess.run([ARM_GCC, *ARM_FLAGS, "--specs=rdimon.specs", "-nostartfiles", "-T", str(linker_script),
                    "-Wl,--gc-sections", f"-Wl,-Map={link_map}", *map(str, objects), "-lm", "-o", str(elf)],
                   check=True, capture_output=True, text=True)
    return elf, link_map


def run_cortex_m4(elf: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([QEMU, *QEMU_ARGS, str(elf)], capture_output=True, text=True, timeout=timeout)


_SECTION = re.compile(r"^ (\.[\w.$]+|COMMON)(?:\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+))?\s*$")
_PLACED = re.compile(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)\s*$")


def map_sizes(link_map: Path) -> dict[str, dict[str, int]]:
    """Bytes each object file puts in flash (.text, .rodata, .data's initial values) and RAM (.data, .bss),
    from the placed input sections of a GNU ld map."""
    text = link_map.read_text()
    placed = text[text.index("Linker script and memory map"):]
    sizes: dict[str, dict[str, int]] = {}
    pending = None
    for line in placed.splitlines():
        section = _SECTION.match(line)
        if section:
            name, size, obj = section.groups()
            if size is None:
                pending = name
                continue
        else:
            follow = _PLACED.match(line) if pending else None
            if not follow:
                pending = None
                continue
            name, (size, obj) = pending, follow.groups()
        pending = None
        entry = sizes.setdefault(Path(obj).name, {"flash": 0, "ram": 0})
        if name.startswith((".text", ".rodata")):
            entry["flash"] += int(size, 16)
        elif name.startswith(".data"):
            entry["flash"] += int(size, 16)
            entry["ram"] += int(size, 16)
        elif name.startswith((".bss", "COMMON")):
            entry["ram"] += int(size, 16)
    return sizes


def frontend_objects() -> tuple[str, ...]:
    """The object files that are the frontend: the generated source and the CMSIS-DSP ones it links."""
    return ("asc_frontend.o", *(Path(s).stem + ".o" for s in CMSIS_DSP_SOURCES))


def worked_example(notes: Path = REPO / "firmware_notes" / "microcontrollers.md") -> str:
    """The worked example's C main loop, as firmware_notes/microcontrollers.md shows it."""
    text = notes.read_text()
    block = text[text.index("<!-- worked-example-begin -->"):text.index("<!-- worked-example-end -->")]
    return block.split("```c\n", 1)[1].rsplit("```", 1)[0]


def clip_header(samples) -> str:
    """``asc_clip.h``: 16-bit samples compiled into the binary as the emulated microphone's input."""
    rows = ",\n".join("  " + ", ".join(str(int(v)) for v in samples[i:i + 16]) for i in range(0, len(samples), 16))
    return (f"#define ASC_CLIP_SAMPLES {len(samples)}u\n#include <stdint.h>\n"
            f"static const int16_t kAscClip[ASC_CLIP_SAMPLES] = {{\n{rows}\n}};\n")


def build_worked_example(c_dir: Path, samples, build: Path) -> tuple[Path, Path]:
    """The worked example + the emulated board with ``samples`` as its microphone, for the Cortex-M4F."""
    build.mkdir(parents=True, exist_ok=True)
    (build / "asc_clip.h").write_text(clip_header(samples))
    main = build / "asc_mcu_main.c"
    main.write_text(worked_example())
    board = build / "board_emulated.c"
    board.write_text((BOARD_DIR / "board_emulated.c").read_text())
    return build_cortex_m4(c_dir, [main, board], build)
