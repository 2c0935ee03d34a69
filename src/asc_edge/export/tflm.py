"""Run the int8 file on TFLite Micro itself (the ``tflite-micro`` wheel: TFLM's interpreter, its greedy arena
planner and its reference kernels), so the op check and the arena size are measured, not read off the graph.

TFLM resolves every operator when the interpreter is built (``AllocateTensors``): a missing kernel or a kernel
that refuses the tensor types fails there, and its reason is printed by native code straight to file
descriptors 1/2, not raised. So every TFLM call here runs with those descriptors redirected to a temp file,
which gives both the failing operator's name and ``print_allocations()``'s arena report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from asc_edge.modelfile.quantization import dequantize, quantize
from asc_edge.plumbing.errors import ExportError, ModelFileError
from asc_edge.plumbing.native_output import quiet_native_output

EXTRA_HINT = "pip install 'asc-edge[export]' (it includes tflite-micro)"
_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '([A-Z0-9_]+)'")
_PREPARE_FAILED = re.compile(r"Node ([A-Z0-9_]+) \(number (\d+)\) failed to (prepare|init)")
_ARENA_LINE = re.compile(r"\[RecordingMicroAllocator\] Arena allocation (total|head|tail) (\d+) bytes")
# TFLM's reference kernels are slow on big inputs (measured: 0.34 s per 10 s dcase-profile clip for the student
# on a loaded 2-core machine, 7 ms per 5 s small-profile clip), so a large evaluate fold is subsampled.
MAX_CLIPS = 1000
_SECTION_LINE = re.compile(r"\[RecordingMicroAllocator\] '([^']+)' used (\d+) bytes")


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ExportError(f"TFLite Micro is not installed ({exc}): {EXTRA_HINT}") from exc
    return runtime


def _failure_line(lines: list[str], error: Exception) -> str:
    text = "\n".join(lines)
    missing = _MISSING_OP.search(text)
    if missing:
        return f"TFLite Micro has no kernel for operator {missing.group(1)}"
    prepare = _PREPARE_FAILED.search(text)
    if prepare:
        # The line before "Node ... failed" is the kernel's own reason (e.g. "INT8 != FLOAT32").
        index = next(i for i, line in enumerate(lines) if prepare.group(0) in line)
        reason = lines[index - 1].strip() if index else ""
        return (f"TFLite Micro's {prepare.group(1)} kernel (operator {prepare.group(2)}) refuses this file"
                f"{': ' + reason if reason else ''}")
    detail = next((line.strip() for line in reversed(lines) if line.strip()), str(error))
    return f"TFLite Micro cannot run this file ({detail})"


@dataclass
class TflmModel:
    """A TFLM interpreter on one file, and the arena it allocated (bytes, from ``print_allocations``)."""

    interpreter: object
    arena: dict

    def run(self, features: np.ndarray) -> np.ndarray:
        """Raw int8 outputs for ``features`` ``(n, 1, n_mels, n_frames)`` (NCHW, as PyTorch), quantised with
        the file's input scale and zero point exactly as ``fidelity.int8_logits`` does for LiteRT."""
        it = self.interpreter
        inp, out = it.get_input_details(0), it.get_output_details(0)
        scale = float(inp["quantization_parameters"]["scales"][0])
        zero = int(inp["quantization_parameters"]["zero_points"][0])
        outputs = np.empty((len(features), int(out["shape"][-1])), dtype=out["dtype"])
        for i, x in enumerate(features):
            nhwc = x.transpose(1, 2, 0)[None]
            it.set_input(quantize(nhwc, scale, zero, inp["dtype"]), 0)
            it.invoke()
            outputs[i] = it.get_output(0).reshape(-1)
        return outputs

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Dequantised logits (same formula as LiteRT's in ``fidelity.int8_logits``)."""
        q = self.interpreter.get_output_details(0)["quantization_parameters"]
        scale, zero = float(q["scales"][0]), int(q["zero_points"][0])
        return dequantize(self.run(features), scale, zero)


def _parse_arena(lines: list[str]) -> dict:
    arena = {f"{m.group(1)}_bytes": int(m.group(2)) for m in map(_ARENA_LINE.search, lines) if m}
    arena["sections"] = {m.group(1): int(m.group(2)) for m in map(_SECTION_LINE.search, lines) if m}
    return arena


def load(tflite: bytes, arena_hint: int = 0) -> TflmModel:
    """Build TFLM's interpreter on ``tflite`` (every operator resolved and prepared) and read its measured
    arena. Raises :class:`ModelFileError` with one line naming the operator TFLM cannot run."""
    runtime = _runtime()
    # Room to allocate in, not the measurement: TFLM reports what it actually used of it. The default of
    # the wrapper (10 x the file) is too small for the dcase profile's 256 x 431 input.
    arena_size = max(10 * len(tflite), 4 * arena_hint + (256 << 10))
    with quiet_native_output(keep=None) as lines:
        try:
            interpreter = runtime.Interpreter.from_bytes(tflite, arena_size=arena_size)
            error = None
        except (RuntimeError, ValueError) as exc:
            error = exc
    if error is not None:
        raise ModelFileError(_failure_line(lines, error))
    with quiet_native_output(keep=None) as lines:
        interpreter.print_allocations()
    arena = _parse_arena(lines)
    if "total_bytes" not in arena:
        raise ModelFileError(f"TFLite Micro printed no arena report ({' / '.join(lines[-2:]) or 'nothing'})")
    return TflmModel(interpreter, arena)


def problem(tflite: bytes) -> str | None:
    """One line when TFLM cannot run ``tflite``, else None (the op gate's check)."""
    try:
        load(tflite)
    except ModelFileError as exc:
        return str(exc)
    return None


def tflm_report(tflite: bytes, graph_inputs: np.ndarray, reference_logits: np.ndarray, labels: np.ndarray,
                devices, n_classes: int, arena_estimate: int,
                litert_logits: np.ndarray | None = None) -> tuple[dict, str | None]:
    """Run the fidelity clips on TFLM and on LiteRT: ``(report, op-gate problem or None)``.

    ``graph_inputs`` are what the exported graph takes (NCHW float, before the file's input quantisation) and
    ``reference_logits`` the float model's on the same clips. The report holds TFLM's measured arena next to
    the estimate, ``compare()`` of each interpreter against the float model, and how far the two
    interpreters' int8 outputs are apart (in output LSB). ``litert_logits``: LiteRT's dequantised logits on the
    same clips when the caller has them already (the export's fidelity check), so LiteRT does not run twice."""
    from asc_edge.export.fidelity import compare, int8_logits

    try:
        model = load(tflite, arena_estimate)
    except ModelFileError as exc:
        return {"runs": False, "problem": str(exc)}, str(exc)
    total = len(graph_inputs)
    if total > MAX_CLIPS:  # an evenly spaced subset (every device and scene), the same for both interpreters
        keep = np.unique(np.linspace(0, total - 1, MAX_CLIPS).round().astype(int))
        graph_inputs, reference_logits = graph_inputs[keep], reference_logits[keep]
        litert_logits = None if litert_logits is None else litert_logits[keep]
        labels, devices = np.asarray(labels)[keep], list(np.asarray(devices)[keep])
    scale = float(model.interpreter.get_output_details(0)["quantization_parameters"]["scales"][0])
    tflm_logits = model.logits(graph_inputs)
    if litert_logits is None:
        litert_logits = int8_logits(tflite, graph_inputs)
    diff = np.rint(np.abs(tflm_logits - litert_logits) / scale)
    return {
        "runs": True, "clips_run": len(graph_inputs), "clips_total": total,
        "arena_measured_bytes": model.arena["total_bytes"], "arena_estimate_bytes": arena_estimate,
        "arena": model.arena,
        "fidelity_tflm": compare(reference_logits, tflm_logits, labels, devices, n_classes),
        "fidelity_litert": compare(reference_logits, litert_logits, labels, devices, n_classes),
        "max_diff_vs_litert_lsb": int(diff.max()) if diff.size else 0,
        "clips_identical_to_litert": int((diff == 0).all(axis=1).sum()),
        "top1_same_as_litert": float((tflm_logits.argmax(1) == litert_logits.argmax(1)).mean()),
    }, None
