"""Write firmware_notes/generated/mcu-target.md: each model's firmware on the emulated Cortex-M4F (QEMU
mps2-an386) as ``asc-bench MODEL --mcu qemu-cortex-m4`` measures it: flash, RAM (TFLM arena measured on the
target + C frontend + stack), instructions per window with CMSIS-NN and reference kernels, outputs vs host.

    ASC_TFLM_SRC=.../tflm-cortex-m-src.tar.gz .venv/bin/python scripts/mcu_target_table.py [--append] NAME=FILE ...

--append keeps the table's existing rows (a row of the same NAME is replaced) and adds the new ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from asc_edge.mcu.report import mcu_bench  # noqa: E402

OUT = ROOT / "firmware_notes/generated/mcu-target.md"


def row(name: str, result: dict) -> str:
    ipw = result["instructions_per_window"]
    equal = "yes" if result["outputs_equal_host"] and result["reference_kernels_equal_host"] \
        and result["host_equal_python_tflite_micro"] else "NO"
    return (f"| {name} | {result['model_bytes']:,} | {result['flash_bytes']:,} | {result['arena_bytes']:,} | "
            f"{result['frontend_ram_bytes']:,} | {result['stack_bytes']:,} | {result['ram_bytes']:,} | "
            f"{ipw['cmsis_nn']['invoke']:,} | {ipw['reference']['invoke']:,} | {ipw['cmsis_nn']['frontend']:,} | "
            f"{equal} |")


def main(argv: list[str]) -> int:
    lines = ["# Models on an emulated Cortex-M4F (generated; do not edit)", "",
             '`ASC_TFLM_SRC=... .venv/bin/python scripts/mcu_target_table.py NAME=FILE ...` on the files '
             'firmware_notes/microcontrollers.md names. Each row is `asc_edge.mcu.report.mcu_bench` (what `asc-'
             'bench MODEL --mcu qemu-cortex-m4` prints): the firmware (C frontend -> TFLite Micro) built with arm-'
             'none-eabi-gcc for mps2-an386 and run on QEMU with `-icount shift=0` on two windows of seeded noise. '
             "Flash = text + data of the ELF (model, code, tables, newlib's printf). RAM = TFLM's "
             "`arena_used_bytes()` on the target + the C frontend's static RAM + the stack's high-water mark. "
             "Instructions: QEMU's instruction count per window (to 40), a proxy for time, not cycles. Outputs "
             'equal: CMSIS-NN and reference kernels on the M4, reference kernels on the host and the tflite_micro '
             'wheel agree bit for bit on every window.', "",
             "| model | file | flash | arena (M4) | frontend RAM | stack | RAM | instructions/window: invoke "
             "CMSIS-NN | invoke reference | frontend | outputs equal |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    append = "--append" in argv
    argv = [a for a in argv if a != "--append"]
    kept: list[str] = []
    if append and OUT.exists():
        names = {item.split("=", 1)[0] for item in argv}
        kept = [line for line in OUT.read_text().splitlines()
                if line.startswith("| ") and not line.startswith("| model |") and line.split(" | ")[0][2:] not in names]
    lines += kept
    for item in argv:
        name, path = item.split("=", 1)
        lines.append(row(name, mcu_bench(path, "qemu-cortex-m4")))
        print(lines[-1], flush=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
