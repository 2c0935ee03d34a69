"""Shared by the seeded training studies (kd_study.py, translator_study.py): train one checkpoint with asc-train's
own code (reused when it exists) and format mean ± sample standard deviation over seeds as a Markdown row."""

from __future__ import annotations

import statistics
from pathlib import Path

from asc_edge.train.checkpoint import load_checkpoint
from asc_edge.train.settings import TrainSettings
from asc_edge.train.trainer import train

KD_DEFAULTS = (TrainSettings.kd_temperature, TrainSettings.kd_alpha)  # asc-train's --kd-temperature, --kd-alpha
TABLE_HEAD = ("| model | runs | macro accuracy % | seen % | unseen % | log loss |\n"
              "|---|---|---|---|---|---|")


def train_scored(path: Path, data: str, translator: str | None, preset: str, epochs: int, seed: int,
                 teachers: tuple[str, ...] = (), kd_temperature: float = KD_DEFAULTS[0],
                 kd_alpha: float = KD_DEFAULTS[1]) -> dict:
    """The main job's training settings (small profile, batch 16); returns the checkpoint's evaluate metrics.

    A finished checkpoint is reused; one a killed study left part-way (asc-train saves every epoch) is resumed."""
    done = load_checkpoint(path)["training"]["epoch"] if path.is_file() else 0
    if done < epochs:
        train(TrainSettings(data=data, out=str(path), preset=preset, frontend="small", epochs=epochs,
                            batch_size=16, seed=seed, translator=translator, teachers=teachers,
                            kd_temperature=kd_temperature, kd_alpha=kd_alpha, resume=done > 0,
                            overwrite=done == 0, progress=False), log=lambda line: None)
    metrics = load_checkpoint(path)["metrics"]
    return {"accuracy": metrics["accuracy"], "seen": metrics["seen"]["accuracy"],
            "unseen": metrics["unseen"]["accuracy"], "log_loss": metrics["log_loss"]}


def mean_sd(values: list[float], digits: int = 1) -> str:
    spread = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.{digits}f}{spread}"


def table_row(name: str, runs: list[dict]) -> str:
    def cell(key: str, scale: float = 100.0, digits: int = 1) -> str:
        return mean_sd([scale * r[key] for r in runs], digits)

    return (f"| {name} | {len(runs)} | {cell('accuracy')} | {cell('seen')} | {cell('unseen')} | "
            f"{cell('log_loss', 1.0, 3)} |")
