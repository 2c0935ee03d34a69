"""Regenerate firmware_notes/generated/mcu-memory.md: a microcontroller's whole memory per preset and width for
the ``small`` profile: file bytes and TFLite Micro's measured arena (rows of the width benchmark,
firmware_notes/generated/width-bytes.jsonl) + the RAM of the C frontend asc-export --c-array writes for that
window, and which SRAM class holds it.

    .venv/bin/python scripts/mcu_memory_table.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from asc_edge.audio.profiles import get_profile  # noqa: E402
from asc_edge.export.c_frontend.memory import frontend_ram_bytes, mcu_memory  # noqa: E402

ROWS = ROOT / "firmware_notes/generated/width-bytes.jsonl"
OUT = ROOT / "firmware_notes/generated/mcu-memory.md"
N_FRAMES = 157  # the width benchmark's small-profile input: 40 x 157 log-mels (a 5 s clip)
SRAM_CLASSES = (("256 KB", 256 * 1024), ("512 KB", 512 * 1024), ("1 MB", 1024 * 1024))


def sram_class(ram: int) -> str:
    return next((name for name, size in SRAM_CLASSES if ram <= size), "more than 1 MB")


def main() -> int:
    config = get_profile("small")
    window = (N_FRAMES - 1) * config.hop_length
    frontend = frontend_ram_bytes(config, window, N_FRAMES)
    lines = ["# MCU memory per preset and width, `small` profile (generated; do not edit)", "",
             f"`.venv/bin/python scripts/mcu_memory_table.py`, from `{ROWS.relative_to(ROOT)}` (file bytes and "
             "TFLite Micro's arena measured on its x86-64 build, int8 activations) and the C frontend's static RAM "
             f"for a {window}-sample window ({config.n_mels} x {N_FRAMES}), the figure "
             "`asc_edge.export.c_frontend.memory.frontend_ram_bytes` gives and tests/test_c_frontend.py checks "
             "against the Cortex-M4F linker map.", "",
             "| preset | width | activations | file (flash) | TFLM arena | frontend RAM | RAM (arena + frontend) "
             "| total | smallest SRAM class that holds the RAM |", "|---|---|---|---|---|---|---|---|---|"]
    for line in ROWS.read_text().splitlines():
        row = json.loads(line)
        if row["profile"] != "small" or "tflm_arena_bytes" not in row:
            continue
        memory = mcu_memory(row["final_bytes"], row["tflm_arena_bytes"], frontend)
        lines.append(f"| {row['preset']} | {row['width']} | {row.get('activations') or 'int8'} | "
                     f"{memory['file_bytes']:,} | {memory['tflm_arena_bytes']:,} | {frontend:,} | "
                     f"{memory['ram_bytes']:,} | {memory['total_bytes']:,} | {sram_class(memory['ram_bytes'])} |")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
