"""``asc-train cv``: K-fold cross-validation of the configured model on a folder per label, as one resumable
command.

For each fold: its split file (``RUN_DIR/fold<i>/split.csv``: the fold evaluates, the others train), the model
trained with ``asc-train``'s settings, exported through ``asc-export``'s defaults, and the int8 file scored on the
fold's recordings as ``asc-listen`` decides them. Three figures per fold: the float model before QAT, its int8
simulation (the QAT checkpoint) and the int8 file in LiteRT. **Nothing is chosen on the evaluate fold**: each
figure is the last epoch's model (``model.pt``), never ``model.best.pt``, which is picked by evaluate accuracy.

A fold whose ``result.json`` carries the same key (settings + split) is skipped on a rerun; an interrupted fold's
training resumes from its last finished epoch.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from asc_edge.data.folder_dataset import FolderOptions
from asc_edge.data.folder_split import split_csv_text
from asc_edge.data.folders import scan_folders
from asc_edge.data.folds import fold_csv_text, fold_split, read_fold_csv, stratified_group_folds
from asc_edge.plumbing.atomic_io import write_text_atomic
from asc_edge.plumbing.errors import ConfigError, ExportError
from asc_edge.recipe.cv_score import metrics_scores, score_file

RESULT, SPLIT, MODEL, EXPORT = "result.json", "split.csv", "model.pt", "export"
FORMAT = "asc-edge-cv"
_MACHINE_FIELDS = ("data", "out", "device", "resume", "overwrite", "cache_dir", "workers", "progress",
                   "report_dir", "layout")


def plan_folds(data: Path, sample_rate: int, options: FolderOptions, folds: str,
               seed: int = 0) -> tuple[dict[str, int], dict[str, str], dict[str, str], str]:
    """``(folds, groups, labels, source)``: ``folds`` is a ``file,fold`` CSV path or a number K."""
    scan = scan_folders(data, sample_rate, options.background, options.device_folders)
    labels = {r.name: r.label for r in scan.recordings}
    if folds.isdigit():
        assigned, groups = stratified_group_folds(scan.recordings, int(folds), seed, options.group_by)
        source = f"{folds} folds, stratified by label, grouped by source (--group-by {options.group_by}), seed {seed}"
    else:
        assigned, groups = read_fold_csv(folds, scan.recordings, options.group_by)
        source = f"from {folds}"
    return assigned, groups, {n: labels[n] for n in assigned}, source


def _key(settings: dict, split_text: str) -> str:
    payload = {"format": FORMAT, "settings": {k: v for k, v in settings.items() if k not in _MACHINE_FIELDS},
               "layout": {k: v for k, v in settings.get("layout", {}).items() if k not in ("split",)},
               "split": split_text}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class CrossValidation:
    """Runs (or continues) every fold of ``folds`` with ``base`` (a TrainSettings: the user's asc-train flags)."""

    def __init__(self, base, run_dir: Path, folds: dict[str, int], groups: dict[str, str], labels: dict[str, str],
                 source: str, log: Callable[[str], None] = print, export: bool = True) -> None:
        self.base, self.run_dir, self.folds, self.groups, self.export = base, run_dir, folds, groups, export
        self.labels, self.source, self.log = labels, source, log
        self.numbers = sorted(set(folds.values()))

    def run(self) -> dict:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.run_dir / "folds.csv", fold_csv_text(self.folds, self.groups))
        self.log(f"cross-validation: {len(self.folds)} recordings, {len(self.numbers)} folds ({self.source}); "
                 f"folds in {self.run_dir}/folds.csv")
        results, spent = [], []
        for i, fold in enumerate(self.numbers):
            start = time.monotonic()
            result, ran = self._fold(fold, i, spent)
            if ran:
                spent.append(time.monotonic() - start)
            results.append(result)
        from asc_edge.recipe.cv_report import summarise

        return summarise(results, self.run_dir, self.log)

    def _eta(self, index: int, spent: list[float]) -> str:
        if not spent:
            return "ETA after the first fold"
        left = (len(self.numbers) - index) * float(np.mean(spent))
        return f"ETA {left / 60:.0f} min for the {len(self.numbers) - index} fold(s) left"

    def _fold(self, fold: int, index: int, spent: list[float]) -> tuple[dict, bool]:
        folder = self.run_dir / f"fold{fold}"
        tag = f"fold {index + 1}/{len(self.numbers)}"
        split_text = split_csv_text(fold_split(self.folds, fold))
        key = _key({**self.base.to_dict(), "export": self.export}, split_text)
        done = _read(folder / RESULT)
        if done and done.get("key") == key:
            self.log(f"{tag}: done earlier ({folder / RESULT}), skipped")
            return done, False
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / SPLIT, split_text)
        self.log(f"{tag}: training on {sum(1 for f in self.folds.values() if f != fold)} recordings, evaluating "
                 f"{sum(1 for f in self.folds.values() if f == fold)} ({self._eta(index, spent)})")
        checkpoint = self._train(folder, key, tag)
        result = {"key": key, "fold": fold, "float": metrics_scores(checkpoint["metrics_float"]),
                  "int8_simulation": metrics_scores(checkpoint["metrics"]),
                  "parameters": (checkpoint.get("size") or {}).get("parameters")}
        if self.export:
            result.update(self._export_and_score(folder, fold, tag))
        else:
            result.update({"export": {"passed": None, "skipped": True}, "int8_file": None})
        write_text_atomic(folder / RESULT, json.dumps(result, indent=1))
        return result, True

    def _train(self, folder: Path, key: str, tag: str) -> dict:
        from asc_edge.train.checkpoint import load_checkpoint
        from asc_edge.train.trainer import train

        started = _read(folder / "train.key")
        resume = bool(started and started.get("key") == key and (folder / MODEL).exists())
        layout = {**self.base.layout, "split": str(folder / SPLIT), "recorded_split": {}}
        settings = replace(self.base, out=str(folder / MODEL), report_dir=str(folder / "model_report"),
                           resume=resume, overwrite=not resume, layout=layout)
        settings.check()
        write_text_atomic(folder / "train.key", json.dumps({"key": key}))
        train(settings, log=lambda line: self.log(f"{tag} {line}"))
        checkpoint = load_checkpoint(folder / MODEL)
        if not checkpoint.get("metrics_float"):
            raise ConfigError("asc-train cv reports the float model before QAT and its int8 simulation: the "
                              "device presets with QAT (not --no-qat, not the teacher preset)")
        return checkpoint

    def _export_and_score(self, folder: Path, fold: int, tag: str) -> dict:
        from asc_edge.export.pipeline import ExportSettings, export_checkpoint, tflite_name

        self.log(f"{tag}: exporting with asc-export's default gates")
        settings = ExportSettings(checkpoint=str(folder / MODEL), out_dir=str(folder / EXPORT),
                                  cache_dir=self.base.cache_dir, progress=self.base.progress)
        try:
            report = export_checkpoint(settings, log=lambda line: self.log(f"{tag} export: {line}")).report
        except ExportError as exc:
            self.log(f"{tag}: the export was refused: {exc}")
            return {"export": {"passed": False, "failure": str(exc)}, "int8_file": None}
        tflite = folder / EXPORT / tflite_name("int8")
        evaluate = {n: self.labels[n] for n, f in self.folds.items() if f == fold}
        self.log(f"{tag}: scoring {tflite.name} on {len(evaluate)} evaluate recordings (LiteRT, as asc-listen)")
        scores = score_file(tflite, Path(self.base.data), evaluate)
        micro = report.get("tflm") or {}
        return {"export": {"passed": report["passed"], "file_bytes": report["file_bytes"],
                           "arena_bytes": micro.get("arena_measured_bytes")},
                "int8_file": scores}
