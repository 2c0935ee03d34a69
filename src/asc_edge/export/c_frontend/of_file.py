"""``asc-export --c-array-of FILE``: the C files of an already exported .tflite (model array, op resolver,
frontend, host program), from its embedded model card; nothing is written unless every file can be."""

from __future__ import annotations

from pathlib import Path

from asc_edge.export.c_array import c_array_files
from asc_edge.export.c_frontend.generate import frontend_files
from asc_edge.plumbing.atomic_io import write_bytes_atomic
from asc_edge.plumbing.errors import ExportError, ModelFileError


def c_files_of_model(path: str, out_dir: str | None) -> list[Path]:
    """Write ``model_int8.h/.cc`` and the frontend's files for the model file ``path``; returns their paths.
    A file without a model card, or whose frontend the generator does not support: one-line error, no file."""
    from asc_edge.export.flatbuffer import activation_memory, io_details, op_histogram
    from asc_edge.export.tflm import load as tflm_load
    from asc_edge.modelfile.read import read_model_file

    data, model_card = read_model_file(path)
    card = model_card.to_dict()
    io, memory = io_details(data), activation_memory(data)
    try:
        arena = tflm_load(data, memory["peak_activation_bytes"]).arena["total_bytes"]
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    files = frontend_files(card, io, len(data), arena, card.get("file_sha256", ""))
    report = {"ops": op_histogram(data), "memory": memory, "tflm": {"arena_measured_bytes": arena},
              "model_card": card, "io": io, "checkpoint": path}
    files.update(c_array_files(data, report))
    out = Path(out_dir) if out_dir else Path(path).parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    written = []
    for name, payload in files.items():
        write_bytes_atomic(out / name, payload)
        written.append(out / name)
    return written
