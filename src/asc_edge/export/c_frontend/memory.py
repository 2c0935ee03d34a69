"""A microcontroller's whole memory for one model: the file, TFLite Micro's arena and the C frontend's RAM."""

from __future__ import annotations

from asc_edge.audio.config import FrontendConfig

# The generated frontend's state besides its buffers on a 32-bit target (arm_rfft_fast_instance_f32, the
# stream counters and flags): 72 B in the Cortex-M4F build's linker map (tests/test_c_frontend.py checks the
# whole figure against the map).
FRONTEND_STATE_BYTES = 72


def frontend_ram_bytes(config: FrontendConfig, window_samples: int, n_frames: int) -> int:
    """Static RAM of the generated frontend: the window's 16-bit samples (a ring), its float32 log-mels, the
    FFT's input and output (float32, n_fft each) and its state."""
    return 2 * window_samples + 4 * config.n_mels * n_frames + 2 * 4 * config.n_fft + FRONTEND_STATE_BYTES


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


def report_memory(file_bytes: int, tflm: dict | None, card: dict) -> dict:
    """``mcu_memory`` of an export: TFLite Micro's measured arena (None when it cannot run the file) and the
    RAM of the frontend the card describes."""
    from asc_edge.plumbing.errors import ConfigError

    window = card.get("window") or {}
    try:
        config = FrontendConfig.from_dict(card["frontend_config"])
        ram = frontend_ram_bytes(config, int(window["samples"]), int(window["n_frames"]))
    except (ConfigError, KeyError, TypeError, ValueError):
        ram = None
    return mcu_memory(file_bytes, (tflm or {}).get("arena_measured_bytes"), ram)
