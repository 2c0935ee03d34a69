"""A microcontroller's whole memory for one model: the file, TFLite Micro's arena and the C frontend's RAM."""

from __future__ import annotations

from dataclasses import dataclass

from asc_edge.audio.config import FrontendConfig

# The generated frontend's state besides its buffers on a 32-bit target (arm_rfft_fast_instance_f32, the
# stream counters and flags), in the Cortex-M4F build's linker map (tests/test_c_frontend.py checks the whole
# figure against the map).
FRONTEND_STATE_BYTES = 80
# Windows in flight the generated code is sized for unless ASC_FRONTEND_MAX_WINDOWS is defined: back-to-back
# windows (asc-listen's default hop) need 1, a hop of half a window 2.
DEFAULT_MAX_WINDOWS = 2


@dataclass(frozen=True)
class FrameLayout:
    """How the streaming frontend keeps a window's frames: ``value_bytes`` each (float32 when an input
    ResNorm needs the whole window's log-mels, else the input type's), ``edge_frames`` leading frames per
    window in flight (they reach into its left padding), ``tail_frames`` made when it completes."""

    value_bytes: int
    edge_frames: int
    tail_frames: int


def frame_layout(config: FrontendConfig, window_samples: int, resnorm: bool, input_bytes: int) -> FrameLayout:
    from asc_edge.audio.frontend import LogMelFrontend

    first, last = LogMelFrontend(config).inside(window_samples)
    n_frames = config.n_frames(window_samples)
    return FrameLayout(4 if resnorm else input_bytes, max(first, 1), max(n_frames - last, 1))


def frontend_ram_bytes(config: FrontendConfig, window_samples: int, n_frames: int, resnorm: bool = True,
                       input_bytes: int = 1, max_windows: int = DEFAULT_MAX_WINDOWS) -> int:
    """Static RAM of the generated streaming frontend: one frame's span of 16-bit samples (a ring), the
    window's frames (a ring of n_frames columns, each window in flight's leading frames, the trailing ones),
    the FFT's input and output (float32, n_fft each) and its state."""
    layout = frame_layout(config, window_samples, resnorm, input_bytes)
    columns = n_frames + max_windows * layout.edge_frames + layout.tail_frames
    return (2 * config.win_length + layout.value_bytes * config.n_mels * columns + 2 * 4 * config.n_fft
            + FRONTEND_STATE_BYTES)


def mcu_memory(file_bytes: int, arena_bytes: int | None, frontend_ram: int | None) -> dict:
    """The figures a part must hold: flash for the file, RAM for the arena and the frontend, and sums."""
    ram = None if arena_bytes is None or frontend_ram is None else arena_bytes + frontend_ram
    return {"file_bytes": file_bytes, "tflm_arena_bytes": arena_bytes, "frontend_ram_bytes": frontend_ram,
            "ram_bytes": ram, "total_bytes": None if ram is None else ram + file_bytes}


def _figure(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def mcu_memory_line(memory: dict) -> str:
    """One line: file + arena + frontend RAM = total (RAM alone ...)."""
    return (f"file {_figure(memory['file_bytes'])} + TFLite Micro arena {_figure(memory['tflm_arena_bytes'])} "
            f"+ C frontend RAM {_figure(memory['frontend_ram_bytes'])} = {_figure(memory['total_bytes'])} bytes "
            f"(RAM: arena + frontend {_figure(memory['ram_bytes'])})")


def input_bytes_of(io: dict | None) -> int:
    """Bytes per value of the model's input tensor (int16 with --activations int16, else int8)."""
    return 2 if ((io or {}).get("input") or {}).get("type") == "INT16" else 1


def report_memory(file_bytes: int, tflm: dict | None, card: dict, input_bytes: int | None = None) -> dict:
    """``mcu_memory`` of an export: TFLite Micro's measured arena (None when it cannot run the file) and the
    RAM of the frontend the card describes (``input_bytes``: the input tensor's element size, 1 for int8)."""
    from asc_edge.plumbing.errors import ConfigError

    window = card.get("window") or {}
    try:
        config = FrontendConfig.from_dict(card["frontend_config"])
        resnorm = (card.get("preprocessing") or {}).get("input_resnorm") is not None
        ram = frontend_ram_bytes(config, int(window["samples"]), int(window["n_frames"]), resnorm,
                                 input_bytes or 1)
    except (ConfigError, KeyError, TypeError, ValueError):
        ram = None
    return mcu_memory(file_bytes, (tflm or {}).get("arena_measured_bytes"), ram)
