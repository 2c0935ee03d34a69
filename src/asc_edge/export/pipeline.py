"""``asc-export``'s core: checkpoint -> ONNX -> full-int8 TFLite, gated, self-describing, written atomically.

Stages (each timed in the report): load the checkpoint and the feature cache, export the ONNX file and gate it
against PyTorch (a failure stops the export there, with a failed report), onnx2tf to a float SavedModel,
calibrated int8 conversion, strip names and embed the model card, the other gates (integer-only, op allow-list,
TFLite Micro, size, fidelity: ``export/gates.py``, each decided once with its failure message), then write every
artefact to a temp name and rename it.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asc_edge.export.c_array import c_array_files, file_stem
from asc_edge.export.c_frontend.generate import FRONTEND_NAMES, frontend_files
from asc_edge.export.c_frontend.memory import input_bytes_of, report_memory
from asc_edge.export.c_frontend.spec import check_frontend_supported
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
from asc_edge.export.gates import export_failures, export_gates, gates_after_onnx, onnx_gate
from asc_edge.export.int8 import onnx_to_saved_model, saved_model_to_int8
from asc_edge.export.npu import COMPILED_NAME, compile_for_npu, require_vela
from asc_edge.export.onnx_file import onnx_max_abs_diff, write_onnx
from asc_edge.export.preflight import check_before_export, litert_logits, require_finite_logits
from asc_edge.export.prepare import exportable_model, graph_inputs, split_input_norm
from asc_edge.export.recorded_ranges import recorded_ranges, resolve_ranges
from asc_edge.export.tflm import tflm_report
from asc_edge.modelfile.card import ModelCard
from asc_edge.modelfile.read import read_model_card
from asc_edge.plumbing.atomic_io import write_bytes_atomic, write_text_atomic
from asc_edge.plumbing.errors import ExportError, ModelFileError
from asc_edge.plumbing.version import __version__
from asc_edge.train.checkpoint import frontend_of, load_checkpoint, model_from_checkpoint
from asc_edge.train.int8_exact import exact_logits
from asc_edge.train.int8_sim import simulation_of_checkpoint
from asc_edge.train.size import model_size

ONNX_NAME, TFLITE_NAME, REPORT_NAME = "model.onnx", "model_int8.tflite", "export_report.json"
ACTIVATION_TYPES = ("int8", "int16")


def tflite_name(activations: str) -> str:
    """``model_int8.tflite``; an int16-activation file is ``model_int16.tflite`` (never called int8)."""
    return f"{file_stem(activations)}.tflite"


# Every artefact name an export may write, for either activation type: a failed export removes them all.
C_NAMES = tuple(f"{file_stem(a)}{suffix}" for a in ACTIVATION_TYPES for suffix in (".h", ".cc"))
TFLITE_NAMES = tuple(tflite_name(a) for a in ACTIVATION_TYPES)
VELA_NAME = COMPILED_NAME  # asc-export --npu: the file compiled for the Ethos-U NPU


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
    # activation ranges (export.ranges.RANGE_METHODS); None: the checkpoint's own when it records them (a QAT
    # checkpoint), else percentiles of the calibration data
    ranges: str | None = None
    activations: str = "int8"  # or "int16" (opt-in: int16 activations with int8 weights)
    seed: int = 0
    c_array: bool = False
    npu: str | None = None  # an Ethos-U accelerator (npu.ACCELERATORS) to compile the file for with Vela
    cache_dir: str | None = None
    progress: bool = True
    # Descriptive card fields (asc-export --about FILE.json): the training data, its license, a CV estimate.
    about: dict | None = None

    def output_dir(self) -> Path:
        path = Path(self.checkpoint)
        return Path(self.out_dir) if self.out_dir else path.with_name(f"{path.stem}_export")


@dataclass
class ExportResult:
    report: dict
    out_dir: Path
    written: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def model_card(checkpoint: dict, checkpoint_bytes: bytes, preprocessing: dict | None = None,
               about: dict | None = None) -> dict:
    """What the runtime needs to use the file with no side files: labels, frontend, window, provenance
    (:meth:`ModelCard.from_checkpoint`, checked by the reader's rules), plus the descriptive ``about`` fields,
    which may not redefine any of those."""
    try:
        card = ModelCard.from_checkpoint(checkpoint, checkpoint_bytes, frontend_of(checkpoint), preprocessing)
    except ModelFileError as exc:
        raise ExportError(str(exc)) from exc
    fields = card.to_dict()
    clash = sorted(set(about or {}) & set(fields))
    if clash:
        raise ExportError(f"--about may add fields to the model card, not replace its own: {', '.join(clash)}")
    return {**fields, **(about or {})}


def read_back(tflite: bytes) -> None:
    """Read the finished file with the runtime's own reader (digest, structure, every card field): the export
    never reports success for a file ``asc-listen --model`` would refuse."""
    try:
        read_model_card(tflite, "the exported file")
    except ModelFileError as exc:
        raise ExportError(f"{exc} (the runtime's reader refuses it; nothing written)") from exc


def _data_dir(settings: ExportSettings, checkpoint: dict) -> Path:
    if settings.calib:
        return Path(settings.calib)
    recorded = (checkpoint.get("data") or {}).get("root")
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    gone = f"; the checkpoint names {recorded}, which is gone" if recorded else ""
    raise ExportError("no calibration data: pass --calib DATA_DIR (a TAU-layout folder or a folder per label "
                      f"with the model's classes{gone})")


def export_checkpoint(settings: ExportSettings, log: Callable[[str], None] = print) -> ExportResult:
    """Run the whole export. Raises :class:`ExportError` (after writing a failed report) when a gate fails."""
    from asc_edge.data.folder_dataset import FolderOptions
    from asc_edge.train.data import load_training_data
    from asc_edge.train.data_layout import recorded_layout

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
    if settings.c_array:
        check_frontend_supported(frontend_of(checkpoint))  # --c-array writes its C frontend: refuse before work
    checkpoint_bytes = Path(settings.checkpoint).read_bytes()
    data_dir = _data_dir(settings, checkpoint)
    reference = model_from_checkpoint(checkpoint, settings.checkpoint)
    # Refusals that need no data: output folder, non-finite weights, model card vs model, byte lower bound.
    check_before_export(checkpoint, settings.checkpoint, reference, out_dir, settings.max_bytes, settings.cache_dir)
    model = exportable_model(checkpoint, settings.checkpoint)
    model, preprocessing = split_input_norm(model) if settings.input_norm == "features" else (model, None)
    ranges = resolve_ranges(checkpoint, settings.checkpoint, settings.ranges, settings.activations,
                            settings.input_norm)
    # The model asc-train evaluated: for a QAT checkpoint its int8 simulation, which is what the file must match.
    simulation = simulation_of_checkpoint(checkpoint, reference, settings.checkpoint) if ranges == "checkpoint" \
        else None
    # A folder per label is cut and split as the checkpoint's training run did (its recorded options and split).
    data = load_training_data(data_dir, frontend_of(checkpoint), settings.cache_dir, progress=settings.progress,
                              layout=FolderOptions.from_dict(recorded_layout(checkpoint)))
    if list(data.labels) != list(checkpoint["labels"]):
        raise ExportError(f"{data_dir}: its labels ({', '.join(data.labels)}) are not the model's "
                          f"({', '.join(checkpoint['labels'])}); calibrate on the data the model was trained on")
    if data.input_shape != tuple(checkpoint["input_shape"]):
        raise ExportError(f"{data_dir}: its clips give {data.input_shape} log-mels, the model takes "
                          f"{tuple(checkpoint['input_shape'])} (clip length differs)")
    raw_calibration = data.batch(calibration_rows(data.train, settings.calibration_clips, settings.seed)).numpy()
    calibration = graph_inputs(raw_calibration, preprocessing)
    held_out = data.batch(data.evaluate.rows).numpy()  # raw log-mels: what the PyTorch reference takes
    int8_inputs = graph_inputs(held_out, preprocessing)  # what the exported graph takes
    plain_float_logits = float_logits(reference, held_out)
    require_finite_logits(plain_float_logits, settings.checkpoint, data.evaluate.filenames)
    reference_logits = plain_float_logits if simulation is None else exact_logits(simulation, held_out)
    lap("load")

    with tempfile.TemporaryDirectory(prefix="asc-export-") as work:
        work_dir = Path(work)
        log(f"ONNX: exporting {settings.checkpoint} ({checkpoint.get('preset')}, input {data.input_shape})")
        write_onnx(model, data.input_shape, work_dir / ONNX_NAME)
        onnx_diff, logit_scale = onnx_max_abs_diff(model, work_dir / ONNX_NAME, int8_inputs[:8])
        onnx = onnx_gate(onnx_diff, logit_scale)
        lap("onnx")
        if not onnx["passed"]:  # converting a graph that already computes something else is pointless
            _stop_after_onnx(settings, out_dir, checkpoint, data_dir, onnx, onnx_diff, logit_scale, timings)
        log("onnx2tf: converting to a float SavedModel")
        saved = onnx_to_saved_model(work_dir / ONNX_NAME, work_dir / "saved_model")
        lap("onnx2tf")
        log(f"int8: calibrating on {len(calibration)} training clips")
        raw = saved_model_to_int8(saved, calibration, ranges, settings.activations,
                                  recorded_ranges(simulation, raw_calibration[:1], calibration[:1]))
        lap("int8_conversion")
        card = model_card(checkpoint, checkpoint_bytes, preprocessing, settings.about)
        # compact (shared identical vectors/tables, no private empty buffers: same outputs, ~30 % fewer
        # bytes) before the card, whose embedding seals the file with its digest and must come last.
        tflite = embed_model_card(compact(strip_tensor_names(raw)), card)
        read_back(tflite)
        onnx_bytes = (work_dir / ONNX_NAME).read_bytes()

    log(f"fidelity: int8 vs PyTorch on {len(held_out)} evaluate clips")
    int8_output = litert_logits(tflite, int8_inputs)
    fidelity = compare(reference_logits, int8_output,
                       data.evaluate.labels, data.evaluate.devices, len(data.labels))
    fidelity["reference"] = "int8 simulation (QAT checkpoint)" if simulation is not None else "float model"
    if simulation is not None:  # the same file against the plain float forward of the same weights
        fidelity["vs_plain_float"] = compare(plain_float_logits, int8_output, data.evaluate.labels,
                                             data.evaluate.devices, len(data.labels))
    lap("fidelity")
    # The same clips on TFLite Micro's interpreter and reference kernels: a file it cannot run fails the op
    # gate; otherwise its measured arena and its agreement with the float model and with LiteRT are reported.
    log(f"TFLite Micro: int8 file on {len(held_out)} evaluate clips")
    memory = activation_memory(tflite)
    micro = tflm_report(tflite, int8_inputs, reference_logits, data.evaluate.labels,
                                       data.evaluate.devices, len(data.labels), memory["peak_activation_bytes"],
                                       int8_output)[0]  # its problem, if any, is micro["problem"]: the TFLM gate's
    lap("tflm")

    ops, types, io = op_histogram(tflite), tensor_types(tflite), io_details(tflite)
    breakdown = size_breakdown(tflite)
    size = model_size(reference, (1, 1, *data.input_shape))
    gates = export_gates(ops=ops, types=types, io=io, file_bytes=len(tflite), max_bytes=settings.max_bytes,
                         breakdown=breakdown, onnx=onnx, fidelity=fidelity, min_agreement=settings.min_agreement,
                         max_drop_pp=settings.max_drop_pp, max_log_loss_increase=settings.max_log_loss_increase,
                         tflm=micro, activations=settings.activations)
    failures = export_failures(gates, settings.activations, simulated=simulation is not None)

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
        "settings": {"input_norm": settings.input_norm, "ranges": ranges,
                     "activations": settings.activations},
        "fidelity": fidelity, "thresholds": {"min_agreement": settings.min_agreement,
                                             "max_drop_pp": settings.max_drop_pp,
                                        "max_log_loss_increase": settings.max_log_loss_increase},
        # Every gate as measured / threshold / verdict (asc_edge.export.gates); printers read only this list.
        "gates": gates,
        "model_card": card, "timings_s": timings,
        # What a microcontroller holds: file + TFLite Micro arena + the C frontend's RAM (--c-array writes it).
        "mcu_memory": report_memory(len(tflite), micro, card, input_bytes_of(io)),
    }
    result = ExportResult(report=report, out_dir=out_dir, failures=failures)
    _write_outputs(result, onnx_bytes, tflite, settings.c_array, {VELA_NAME: compiled} if compiled else {})
    if failures:
        _refuse(result)
    return result


def _stop_after_onnx(settings: ExportSettings, out_dir: Path, checkpoint: dict, data_dir: Path, onnx: dict,
                     onnx_diff: float, logit_scale: float, timings: dict[str, float]) -> None:
    """Write the failed report of an export stopped at its ONNX gate (every later gate not run), then raise."""
    report = {
        "passed": False, "failures": [onnx["failure"]], "stopped_at": onnx["name"],
        "checkpoint": str(settings.checkpoint), "calibration_data": str(data_dir),
        "preset": checkpoint.get("preset"), "package_version": __version__,
        "onnx_max_abs_diff": onnx_diff if math.isfinite(onnx_diff) else str(onnx_diff), "largest_logit": logit_scale,
        "settings": {"input_norm": settings.input_norm, "ranges": settings.ranges,
                     "activations": settings.activations},
        "thresholds": {"min_agreement": settings.min_agreement, "max_drop_pp": settings.max_drop_pp,
                       "max_log_loss_increase": settings.max_log_loss_increase},
        "gates": [onnx], "gates_not_run": gates_after_onnx(settings.activations),
        "timings_s": timings,
    }
    result = ExportResult(report=report, out_dir=out_dir, failures=report["failures"])
    _write_outputs(result, b"", b"", False)
    _refuse(result)


def _refuse(result: ExportResult) -> None:
    error = ExportError(f"{' ; '.join(result.failures)} (report: {result.out_dir / REPORT_NAME}; no .tflite "
                        f"written)")
    error.report = result.report  # the CLI prints the summary before the one-line error
    raise error


def _write_outputs(result: ExportResult, onnx_bytes: bytes, tflite: bytes, c_array: bool,
                   extra: dict[str, bytes] | None = None) -> None:
    import json

    out = result.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    artefacts = {ONNX_NAME: onnx_bytes, tflite_name(result.report["settings"]["activations"]): tflite}
    if c_array and not result.failures:
        artefacts.update(c_array_files(tflite, result.report))
        memory = result.report["mcu_memory"]
        artefacts.update(frontend_files(result.report["model_card"], result.report["io"], len(tflite),
                                        memory["tflm_arena_bytes"], hashlib.sha256(tflite).hexdigest()))
    artefacts.update(extra or {})
    if result.failures:
        # A failed export must not leave a model that looks valid, including one from an earlier run.
        for name in (ONNX_NAME, *TFLITE_NAMES, *C_NAMES, *FRONTEND_NAMES, VELA_NAME):
            (out / name).unlink(missing_ok=True)
        artefacts = {}
    for name, payload in artefacts.items():
        write_bytes_atomic(out / name, payload)
        result.written.append(name)
    write_text_atomic(out / REPORT_NAME, json.dumps(result.report, indent=2, sort_keys=True) + "\n")
    result.written.append(REPORT_NAME)

