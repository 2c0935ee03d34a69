"""Fill the C templates with a model's frontend: its tables, sizes and input quantisation."""

from __future__ import annotations

from importlib import resources
from string import Template

import numpy as np

from asc_edge.audio.frontend import window_values
from asc_edge.audio.melbank import mel_bands
from asc_edge.export.c_frontend.cmsis import sources_comment
from asc_edge.export.c_frontend.memory import DEFAULT_MAX_WINDOWS, frame_layout, frontend_ram_bytes, mcu_memory
from asc_edge.export.c_frontend.spec import INPUT_TYPES, FrontendSpec, frontend_spec
from asc_edge.plumbing.version import __version__

HEADER, SOURCE, HOST_MAIN = "asc_frontend.h", "asc_frontend.c", "asc_features_main.c"
FRONTEND_NAMES = (HEADER, SOURCE, HOST_MAIN)
_PER_LINE = 8


def _template(name: str) -> Template:
    return Template(resources.files(__package__).joinpath("templates", f"{name}.in").read_text())


def c_float(value: float) -> str:
    """A float32 as a C float literal that reads back to the same float32 (9 significant digits)."""
    return f"{float(np.float32(value)):.8e}f"


def _rows(values: list[str]) -> str:
    return ",\n".join("  " + ", ".join(values[i:i + _PER_LINE]) for i in range(0, len(values), _PER_LINE))


def _describe(spec: FrontendSpec) -> dict[str, str]:
    cfg = spec.config
    resnorm = spec.resnorm
    return {
        "frontend_line": f"Frontend {cfg.name!r}: {cfg.sample_rate} Hz, {cfg.window} window of {cfg.win_length} "
                         f"in n_fft {cfg.n_fft}, frame hop {cfg.hop_length}, {cfg.n_mels} mels "
                         f"({cfg.mel_scale}, norm {cfg.mel_norm}, {cfg.fmin:g}-{cfg.fmax:g} Hz), "
                         f"log {cfg.log} with floor {cfg.log_floor:g}, centred frames.",
        "window_line": f"Window: {spec.window_samples} samples -> {cfg.n_mels} x {spec.n_frames} log-mels.",
        "preprocess_line": "Input ResNorm: none (the graph takes the log-mels)." if not resnorm else
                           f"Input ResNorm ({resnorm['mode']}): {resnorm['lambda']!r} * x + (x - mean) / "
                           f"sqrt(var + {resnorm['eps']!r}), in float32.",
    }


def frontend_files(card: dict | None, io: dict, file_bytes: int, arena_bytes: int | None,
                   model_sha: str = "") -> dict[str, bytes]:
    """``asc_frontend.h``, ``asc_frontend.c`` and ``asc_features_main.c`` for the model the card describes.
    Raises :class:`ExportError` (one line, nothing generated) when the generator does not support it."""
    spec = frontend_spec(card, io)
    cfg = spec.config
    ctype, low, high = INPUT_TYPES[spec.input_type]
    bands = mel_bands(cfg)
    input_bytes = 2 if spec.input_type == "INT16" else 1
    ram = frontend_ram_bytes(cfg, spec.window_samples, spec.n_frames, spec.resnorm is not None, input_bytes)
    layout = frame_layout(cfg, spec.window_samples, spec.resnorm is not None, input_bytes)
    memory = mcu_memory(file_bytes, arena_bytes, ram)
    first, last = spec.inside
    resnorm = spec.resnorm or {}
    values = {
        "version": __version__, "model_sha": model_sha or "(unknown)", **_describe(spec),
        "cmsis_comment": sources_comment(),
        "sample_rate": cfg.sample_rate, "window_samples": spec.window_samples, "hop_length": cfg.hop_length,
        "n_mels": cfg.n_mels, "n_frames": spec.n_frames, "n_fft": cfg.n_fft, "win_length": cfg.win_length,
        "bins": cfg.n_fft // 2 + 1, "lead": spec.lead, "inside_first": first, "inside_last": last,
        "input_type": spec.input_type, "input_ctype": ctype, "input_min": low, "input_max": high,
        "input_scale": f"{spec.input_scale:.8e}", "input_zero_point": spec.input_zero_point,
        "log_floor": f"{float(np.float32(cfg.log_floor)):.8e}", "log_db": int(cfg.log == "db"),
        "resnorm_mode": {"": 0, "instance": 1, "frequency": 2}[resnorm.get("mode", "")],
        "resnorm_lambda": f"{float(np.float32(resnorm.get('lambda', 0.0))):.8e}",
        "resnorm_eps": f"{float(np.float32(resnorm.get('eps', 1.0))):.8e}",
        "window_name": cfg.window, "nnz": bands.nnz,
        "window_table": _rows([c_float(v) for v in window_values(cfg).astype(np.float32)]),
        "mel_weights": _rows([c_float(v) for v in bands.data]),
        "mel_bins": _rows([str(int(v)) for v in bands.indices]),
        "mel_rows": _rows([str(int(v)) for v in bands.indptr]),
        "rfft_init": f"arm_rfft_fast_init_{cfg.n_fft}_f32",
        "file_bytes": memory["file_bytes"], "arena_bytes": memory["tflm_arena_bytes"] or 0,
        "max_windows": DEFAULT_MAX_WINDOWS, "edge_bytes": layout.value_bytes * layout.edge_frames * cfg.n_mels,
        "frames_kept": "float32 log-mels (the input ResNorm needs the whole window's)" if spec.resnorm else
                       f"{spec.input_type.lower()} input values (quantised as they are made)",
        "frontend_ram_bytes": ram, "total_bytes": memory["total_bytes"] or 0, "ram_bytes": memory["ram_bytes"] or 0,
    }
    return {name: _template(name).substitute(values).encode() for name in FRONTEND_NAMES}
