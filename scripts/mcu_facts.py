"""Regenerate firmware_notes/generated/microcontroller-facts.md: bytes, op list, TFLite Micro's measured arena,
TFLM vs LiteRT and Vela's Ethos-U figures for the packaged model (as packaged and compacted) and for any other
exported .tflite given, so microcontrollers.md quotes measurements, not typed numbers.

    .venv/bin/python scripts/mcu_facts.py [OTHER.tflite ...]

A dcase-profile student for the notes comes from the width benchmark (bytes, arena and Vela figures depend on
the graph, not on training):
    .venv/bin/python benchmarks/width_bytes.py --preset student --profile dcase --widths 18 --save /tmp/mcu
    .venv/bin/python scripts/mcu_facts.py /tmp/mcu/student_dcase_w18_int8.tflite
"""

from __future__ import annotations

import hashlib
import importlib.util
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from asc_edge.export import tflm  # noqa: E402
from asc_edge.export.checks import MICRO_OPS  # noqa: E402
from asc_edge.export.compact import compact  # noqa: E402
from asc_edge.export.flatbuffer import (  # noqa: E402
    activation_memory,
    embed_model_card,
    io_details,
    op_histogram,
    size_breakdown,
)
from asc_edge.modelfile.read import read_model_card  # noqa: E402

PACKAGED = ROOT / "src/asc_edge/runtime/default_model/synth_student_int8.tflite"
OUT = ROOT / "firmware_notes/generated/microcontroller-facts.md"
ACCELERATORS = ("ethos-u55-128", "ethos-u55-256", "ethos-u65-256")
INPUTS = 20  # seeded log-mel-like inputs for the interpreter comparison


def _litert(data: bytes, x: np.ndarray, reference: bool) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {"experimental_op_resolver_type": OpResolverType.BUILTIN_REF} if reference else {}
    it = Interpreter(model_content=data, num_threads=1, **kwargs)
    it.allocate_tensors()
    (inp,), (out,) = it.get_input_details(), it.get_output_details()
    scale, zero = inp["quantization"]
    rows = []
    for sample in x:
        it.set_tensor(inp["index"], np.clip(np.round(sample.transpose(1, 2, 0)[None] / scale + zero),
                                            -128, 127).astype(np.int8))
        it.invoke()
        rows.append(it.get_tensor(out["index"])[0].astype(np.int32))
    return np.array(rows)


# benchmarks/width_bytes.py writes untrained exports with this checkpoint digest: bytes, arena and Vela figures
# hold for them, but an untrained model's outputs say little about interpreter differences.
UNTRAINED = hashlib.sha256(b"untrained").hexdigest()


def _section(title: str, data: bytes) -> list[str]:
    card = read_model_card(data).to_dict()
    if card.get("checkpoint_sha256") == UNTRAINED:
        title += " (untrained export from benchmarks/width_bytes.py)"
    ops, io, memory = op_histogram(data), io_details(data), activation_memory(data)
    model = tflm.load(data, memory["peak_activation_bytes"])
    shape = io["input"]["shape"]
    x = np.random.default_rng(0).normal(-3.0, 2.0, (INPUTS, 1, shape[1], shape[2])).astype(np.float32)
    micro = model.run(x).astype(np.int32)
    vs_default = int(np.abs(micro - _litert(data, x, False)).max())
    vs_reference = int(np.abs(micro - _litert(data, x, True)).max())
    parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in size_breakdown(data).items() if v)
    lines = [
        f"## {title}", "",
        f"- preset `{card.get('preset')}`, frontend `{card['frontend_config']['name']}`, input "
        f"{io['input']['type']} {shape}; flash (the .tflite / C array): **{len(data):,} bytes** ({parts})",
        f"- operators ({sum(ops.values())}): " + ", ".join(f"{k} x{v}" for k, v in ops.items()),
        "- `MicroMutableOpResolver<" + str(len(ops)) + ">`: " + ", ".join(MICRO_OPS.get(k, "?" + k) for k in ops),
        f"- tensor arena: estimate {memory['peak_activation_bytes']:,} B (peak live activations); "
        f"**TFLite Micro measured {model.arena['total_bytes']:,} B** (head {model.arena['head_bytes']:,}, tail "
        f"{model.arena['tail_bytes']:,}: " + ", ".join(f"{k} {v:,}" for k, v in model.arena["sections"].items()) + ")",
        f"- outputs on {INPUTS} seeded log-mel-like inputs: TFLM vs LiteRT reference kernels (BUILTIN_REF) max "
        f"**{vs_reference} LSB**; TFLM vs LiteRT default kernels max **{vs_default} LSB**",
    ]
    if importlib.util.find_spec("ethosu") is not None:
        from asc_edge.export.npu import compile_for_npu

        lines += ["", "| Ethos-U (Vela defaults) | ops NPU / CPU | SRAM | weights storage | est. time per window |",
                  "|---|---|---|---|---|"]
        for accelerator in ACCELERATORS:
            n = compile_for_npu(data, accelerator)[0]
            lines.append(f"| {accelerator} ({n['system_config']}, {n['memory_mode']}, {n['clock_hz'] / 1e6:.0f} MHz) "
                         f"| {n['npu_operators']} / {n['cpu_operators']} | {n['sram_bytes']:,} B "
                         f"| {n['weights_storage_area']} {n['weights_storage_bytes']:,} B "
                         f"| {n['inference_time_ms']:.2f} ms |")
    else:
        lines.append("- Ethos-U: not measured (Vela not installed: pip install 'asc-edge[npu]')")
    return lines + [""]


def main(argv: list[str]) -> int:
    from importlib.metadata import version

    packaged = PACKAGED.read_bytes()
    card = read_model_card(packaged).to_dict()
    # What asc-export now writes for the same graph: compacted, then the card embedded and sealed last.
    compacted = embed_model_card(compact(packaged), card)
    lines = [
        "# Microcontroller facts (generated by `scripts/mcu_facts.py`; do not edit)", "",
        "Command: `" + " ".join([".venv/bin/python scripts/mcu_facts.py", *argv]) + "`. "
        f"tflite-micro {version('tflite-micro')} (Python wheel, {platform.machine()}: pointers are 8 bytes, so "
        "TFLM's own structures are larger than on a 32-bit MCU), ai-edge-litert "
        f"{version('ai-edge-litert')}"
        + (f", ethos-u-vela {version('ethos-u-vela')}" if importlib.util.find_spec("ethosu") else "") + ". "
        "Vela's figures are its performance model's estimates with its default system configuration "
        "for each accelerator, not measured on silicon.", "",
    ]
    lines += _section(f"Packaged model as shipped: `{PACKAGED.relative_to(ROOT)}`", packaged)
    lines += _section("Packaged model compacted (`compact` + card, as asc-export now writes it)", compacted)
    for path in argv:
        lines += _section(f"`{Path(path).name}`", Path(path).read_bytes())
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
