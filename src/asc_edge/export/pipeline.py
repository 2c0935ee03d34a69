"""``asc-export``'s core: checkpoint -> ONNX -> full-int8 TFLite, gated, self-describing, written atomically.

Stages (each timed in the report): load the checkpoint and the feature cache, export and check the ONNX file,
onnx2tf to a float SavedModel, calibrated int8 conversion, strip names and embed the model card, gates
(integer-only, op allow-list, size, fidelity), then write every artefact to a temp name and rename it.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asc_edge import __version__
from asc_edge.export import checks
from asc_edge.export.c_array import c_array_files
from asc_edge.export.calibration import calibration_rows
from asc_edge.export.compact import compact
from asc_edge.export.fidelity import compare, float_logits
from asc_edge.export.flatbuffer import (
    activation_memory,
    embed_model_card,
    io_details,
    op_histogram,
    size_breakdown,
    strip_tensor_names,
    tensor_types,
)
from asc_edge.export.gates import export_gates
from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
from asc_edge.export.npu import COMPILED_NAME, compile_for_npu, require_vela
from asc_edge.export.onnx_file import onnx_max_abs_diff, write_onnx
from asc_edge.export.preflight import check_before_export, litert_logits, require_finite, require_finite_logits
from asc_edge.export.prepare import exportable_model, graph_inputs, split_input_norm
from asc_edge.export.tflm import tflm_report
from asc_edge.plumbing.atomic_io import write_bytes_atomic, write_text_atomic
from asc_edge.plumbing.errors import ExportError
from asc_edge.train.checkpoint import frontend_of, load_checkpoint, model_from_checkpoint
from asc_edge.train.size import model_size

ONNX_NAME, TFLITE_NAME, REPORT_NAME = "model.onnx", "model_int8.tflite", "export_report.json"
C_NAMES = ("model_int8.h", "model_int8.cc")
VELA_NAME = COMPILED_NAME  # asc-export --npu: the file compiled for the Ethos-U NPU
ONNX_TOLERANCE = 1e-4


@dataclass
class ExportSettings:
    checkpoint: str
    out_dir: str | None = None  # default: <checkpoint stem>_export beside the checkpoint
    calib: str | None = None  # default: the data folder recorded in the checkpoint
    max_bytes: int = 128_000
    min_agreement: float = 0.99
    max_drop_pp: float = 0.5
    max_log_loss_increase: float = 0.05  # int8 log loss minus float log loss on the evaluate clips
    calibration_clips: int = 300
    input_norm: str = "features"  # where the input ResNorm runs: prepare.INPUT_NORM_PLACES
    ranges: str = "percentile"  # activation ranges: export.ranges.RANGE_METHODS
    activations: str = "int8"  # or "int16" (opt-in: int16 activations with int8 weights)
    seed: int = 0
    c_array: bool = False
    npu: str | None = None  # an Ethos-U accelerator (npu.ACCELERATORS) to compile the file for with Vela
    cache_dir: str | None = None
    progress: bool = True

    def output_dir(self) -> Path:
        path = Path(self.checkpoint)
        return Path(self.out_dir) if self.out_dir else path.with_name(f"{path.stem}_export")


@dataclass
class ExportResult:
    report: dict
    out_dir: Path
    written: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def model_card(checkpoint: dict, checkpoint_bytes: bytes, preprocessing: dict | None = None) -> dict:
    """What the runtime needs to use the file with no side files: labels, frontend, window, provenance."""
    frontend = frontend_of(checkpoint)
    n_mels, n_frames = (int(v) for v in checkpoint["input_shape"])
    # center=True framing: n_frames = 1 + samples // hop, so this many samples give exactly n_frames.
    window_samples = (n_frames - 1) * frontend.hop_length
    return {
        "format": "asc-edge-model", "format_version": 1, "package_version": __version__,
        "preset": checkpoint.get("preset"), "labels": list(checkpoint["labels"]),
        "frontend_config": frontend.to_dict(),
        "window": {"samples": window_samples, "seconds": window_samples / frontend.sample_rate,
                   "n_mels": n_mels, "n_frames": n_frames},
        "input_layout": "NHWC int8 (1, n_mels, n_frames, 1) of natural-log mel energies"
                        + (", after preprocessing.input_resnorm" if preprocessing else ""),
        # The float32 steps the runtime applies to the log-mels before quantising (asc_edge.audio.input_norm).
        "preprocessing": {"input_resnorm": preprocessing} if preprocessing else {},
        "model_config": checkpoint["model_config"],
        "checkpoint_sha256": hashlib.sha256(checkpoint_bytes).hexdigest(),
    }


def _data_dir(settings: ExportSettings, checkpoint: dict) -> Path:
    if settings.calib:
        return Path(settings.calib)
    recorded = (checkpoint.get("data") or {}).get("root")
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    raise ExportError("no calibration data: pass --calib DATA_DIR (a TAU-layout folder with the model's "
                      f"classes{'; the checkpoint names ' + recorded + ', which is gone' if recorded else ''})")


def export_checkpoint(settings: ExportSettings, log: Callable[[str], None] = print) -> ExportResult:
    """Run the whole export. Raises :class:`ExportError` (after writing a failed report) when a gate fails."""
    from asc_edge.train.data import load_training_data

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    out_dir = settings.output_dir()
    if settings.npu:
        require_vela()  # before minutes of conversion, not after
    checkpoint = load_checkpoint(settings.checkpoint)
    checkpoint_bytes = Path(settings.checkpoint).read_bytes()
    data_dir = _data_dir(settings, checkpoint)
    reference = model_from_checkpoint(checkpoint, settings.checkpoint)
    # Refusals that need no data: output folder, non-finite weights, model card vs model, byte lower bound.
    check_before_export(checkpoint, settings.checkpoint, reference, out_dir, settings.max_bytes, settings.cache_dir)
    model = exportable_model(checkpoint, settings.checkpoint)
    model, preprocessing = split_input_norm(model) if settings.input_norm == "features" else (model, None)
    data = load_training_data(data_dir, frontend_of(checkpoint), settings.cache_dir, progress=settings.progress)
    if data.input_shape != tuple(checkpoint["input_shape"]):
        raise ExportError(f"{data_dir}: its clips give {data.input_shape} log-mels, the model takes "
                          f"{tuple(checkpoint['input_shape'])} (clip length differs)")
    calibration = graph_inputs(
        data.batch(calibration_rows(data.train, settings.calibration_clips, settings.seed)).numpy(), preprocessing)
    held_out = data.batch(data.evaluate.rows).numpy()  # raw log-mels: what the PyTorch reference takes
    int8_inputs = graph_inputs(held_out, preprocessing)  # what the exported graph takes
    reference_logits = float_logits(reference, held_out)
    require_finite_logits(reference_logits, settings.checkpoint, data.evaluate.filenames)
    lap("load")

    with tempfile.TemporaryDirectory(prefix="asc-export-") as work:
        work_dir = Path(work)
        log(f"ONNX: exporting {settings.checkpoint} ({checkpoint.get('preset')}, input {data.input_shape})")
        write_onnx(model, data.input_shape, work_dir / ONNX_NAME)
        onnx_diff, logit_scale = onnx_max_abs_diff(model, work_dir / ONNX_NAME, int8_inputs[:8])
        lap("onnx")
        # 1e-4 absolute for logits within +-1; float32 rounding grows with the logits' size, so beyond that
        # the bound is 1e-4 relative to the largest logit (measured: 2.5e-4 on logits of the dcase profile).
        require_finite(onnx_diff, "ONNX Runtime vs PyTorch difference")
        if onnx_diff > ONNX_TOLERANCE * max(1.0, logit_scale):
            raise ExportError(f"ONNX Runtime differs from PyTorch by {onnx_diff:.2e} (> {ONNX_TOLERANCE:g} x "
                              f"max(1, largest logit {logit_scale:.3g}))")
        log("onnx2tf: converting to a float SavedModel")
        saved = onnx_to_saved_model(work_dir / ONNX_NAME, work_dir / "saved_model")
        lap("onnx2tf")
        log(f"int8: calibrating on {len(calibration)} training clips")
        raw = saved_model_to_int8(saved, calibration, settings.ranges, settings.activations)
        lap("int8_conversion")
        card = model_card(checkpoint, checkpoint_bytes, preprocessing)
        # compact (shared identical vectors/tables, no private empty buffers: same outputs, ~30 % fewer
        # bytes) before the card, whose embedding seals the file with its digest and must come last.
        tflite = embed_model_card(compact(strip_tensor_names(raw)), card)
        onnx_bytes = (work_dir / ONNX_NAME).read_bytes()

    log(f"fidelity: int8 vs PyTorch on {len(held_out)} evaluate clips")
    int8_output = litert_logits(tflite, int8_inputs)
    fidelity = compare(reference_logits, int8_output,
                       data.evaluate.labels, data.evaluate.devices, len(data.labels))
    lap("fidelity")
    # The same clips on TFLite Micro's interpreter and reference kernels: a file it cannot run fails the op
    # gate; otherwise its measured arena and its agreement with the float model and with LiteRT are reported.
    log(f"TFLite Micro: int8 file on {len(held_out)} evaluate clips")
    memory = activation_memory(tflite)
    micro, micro_problem = tflm_report(tflite, int8_inputs, reference_logits, data.evaluate.labels,
                                       data.evaluate.devices, len(data.labels), memory["peak_activation_bytes"],
                                       int8_output)
    lap("tflm")

    ops, types, io = op_histogram(tflite), tensor_types(tflite), io_details(tflite)
    breakdown = size_breakdown(tflite)
    size = model_size(reference, (1, 1, *data.input_shape))
    failures = checks.op_problems(ops) + checks.integer_problems(types, io, settings.activations)
    failures += [micro_problem] if micro_problem else []
    if len(tflite) > settings.max_bytes:
        failures.append(checks.size_message(len(tflite), settings.max_bytes, breakdown))
    fidelity_failures = []
    if fidelity["top1_agreement"] < settings.min_agreement:
        fidelity_failures.append(f"top-1 agreement {100 * fidelity['top1_agreement']:.1f} % < "
                                 f"{100 * settings.min_agreement:.1f} %")
    if fidelity["accuracy_drop_pp"] > settings.max_drop_pp:
        fidelity_failures.append(f"macro-accuracy drop {fidelity['accuracy_drop_pp']:.2f} pp > "
                                 f"{settings.max_drop_pp:g} pp")
    if fidelity["log_loss_increase"] > settings.max_log_loss_increase:
        fidelity_failures.append(f"log-loss increase {fidelity['log_loss_increase']:.3f} > "
                                 f"{settings.max_log_loss_increase:g}")
    if fidelity_failures:
        # QAT is no longer advised: it did not beat post-training quantisation in benchmarks/int8_fidelity.py
        # (firmware_notes/int8-export-measurements.md). int16 activations did, at a cost in bytes and speed.
        hint = ("" if settings.activations == "int16" else
                "; int16 activations keep int8 weights and are far more faithful: asc-export --activations int16")
        failures.append("fidelity gate: " + ", ".join(fidelity_failures) + hint +
                        " (or relax --min-agreement / --max-drop / --max-log-loss-increase)")

    npu, compiled = None, None
    if settings.npu:
        log(f"Vela: compiling for {settings.npu}")
        try:
            npu, compiled = compile_for_npu(tflite, settings.npu)
        except ExportError as exc:  # one line (Vela's own reason); the report keeps everything else
            npu = {"accelerator": settings.npu, "problem": str(exc)}
            failures.append(str(exc))
        lap("npu")

    report = {
        "passed": not failures, "failures": failures,
        "checkpoint": str(settings.checkpoint), "calibration_data": str(data_dir),
        "preset": checkpoint.get("preset"), "package_version": __version__,
        "file_bytes": len(tflite), "max_bytes": settings.max_bytes, "bytes_by_part": breakdown,
        "parameters": size.parameters, "nonzero_parameters": size.nonzero_parameters,
        "dcase2021_size_bytes": size.dcase_size_bytes, "macs": size.macs,
        "ops": ops, "op_count": sum(ops.values()), "tensor_types": types, "io": io,
        "memory": memory, "tflm": micro, "npu": npu, "onnx_max_abs_diff": onnx_diff, "largest_logit": logit_scale,
        "calibration_clips": len(calibration),
        # The levers this file was made with (asc-export --input-norm / --ranges / --activations).
        "settings": {"input_norm": settings.input_norm, "ranges": settings.ranges,
                     "activations": settings.activations},
        "fidelity": fidelity, "thresholds": {"min_agreement": settings.min_agreement,
                                             "max_drop_pp": settings.max_drop_pp,
                                        "max_log_loss_increase": settings.max_log_loss_increase},
        # Every gate as measured / threshold / verdict (asc_edge.export.gates); printers read only this list.
        "gates": export_gates(ops=ops, types=types, io=io, file_bytes=len(tflite), max_bytes=settings.max_bytes,
                              onnx_diff=onnx_diff, onnx_bound=ONNX_TOLERANCE * max(1.0, logit_scale),
                              fidelity=fidelity, min_agreement=settings.min_agreement,
                              max_drop_pp=settings.max_drop_pp,
                              max_log_loss_increase=settings.max_log_loss_increase, tflm=micro,
                              activations=settings.activations),
        "model_card": card, "timings_s": timings,
    }
    result = ExportResult(report=report, out_dir=out_dir, failures=failures)
    _write_outputs(result, onnx_bytes, tflite, settings.c_array, {VELA_NAME: compiled} if compiled else {})
    if failures:
        error = ExportError(f"{' ; '.join(failures)} (report: {out_dir / REPORT_NAME}; no .tflite written)")
        error.report = report  # the CLI prints the summary before the one-line error
        raise error
    return result


def _write_outputs(result: ExportResult, onnx_bytes: bytes, tflite: bytes, c_array: bool,
                   extra: dict[str, bytes] | None = None) -> None:
    import json

    out = result.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    artefacts = {ONNX_NAME: onnx_bytes, TFLITE_NAME: tflite}
    if c_array:
        artefacts.update(c_array_files(tflite, result.report))
    artefacts.update(extra or {})
    if result.failures:
        # A failed export must not leave a model that looks valid, including one from an earlier run.
        for name in (ONNX_NAME, TFLITE_NAME, *C_NAMES, VELA_NAME):
            (out / name).unlink(missing_ok=True)
        artefacts = {}
    for name, payload in artefacts.items():
        write_bytes_atomic(out / name, payload)
        result.written.append(name)
    write_text_atomic(out / REPORT_NAME, json.dumps(result.report, indent=2, sort_keys=True) + "\n")
    result.written.append(REPORT_NAME)

