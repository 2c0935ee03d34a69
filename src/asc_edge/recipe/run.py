"""``asc-train recipe``: the whole QTI system as one resumable command.

Stages, each in ``RUN_DIR/<stage>/`` with its settings and outputs recorded in ``stage.json``:
device translator -> teacher(s) -> student (translation + KD) -> pruning + fine-tuning -> int8 (QAT, or
post-training quantisation at export when ``qat_epochs = 0``) -> ``asc-export`` with its default gates ->
``RUN_DIR/report.{md,json}`` and a plot.

A stage's key is the hash of its settings, the data folder's fingerprint and the SHA-256 of every upstream
file it reads. A rerun skips a stage whose ``stage.json`` is done with the same key, resumes one that was
interrupted (``asc-train --resume``: same randomness, so the same weights as a straight run) and redoes one
whose key changed, which changes every downstream key in turn. Under ``torchrun`` every rank runs the
training stages (DDP as ``asc-train``); rank 0 alone decides, writes and runs the other stages.

This package sits above ``train`` and ``export`` and is the one place that drives both. The stages import the
training and export code they run, so a config or data-folder refusal answers before any of it is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asc_edge.audio.profiles import get_profile
from asc_edge.data.folder_dataset import FolderOptions
from asc_edge.data.tau import EVALUATE_CSV, TRAIN_CSV, load_tau
from asc_edge.plumbing.atomic_io import write_text_atomic
from asc_edge.plumbing.errors import ConfigError, ExportError
from asc_edge.plumbing.file_digest import sha256_file
from asc_edge.plumbing.version import __version__
from asc_edge.recipe.config import RecipeConfig
from asc_edge.recipe.folder_data import NO_TRANSLATOR_NOTE, folder_run, without_translator

RECIPE_FILE, STAGE_FILE, CHECKPOINT = "recipe.json", "stage.json", "model.pt"
FORMAT = "asc-edge-recipe"
# TrainSettings fields that change how a run is executed, not what it computes: left out of a stage's key.
_MACHINE_FIELDS = ("data", "out", "device", "resume", "overwrite", "cache_dir", "workers", "progress",
                   "report_dir")


@dataclass(frozen=True)
class Machine:
    """Options of this invocation that do not change results (and are not part of any key)."""

    device: str = "auto"
    cache_dir: str | None = None
    workers: int | None = None
    progress: bool = True


@dataclass
class Stage:
    name: str
    kind: str  # translator | teacher | student | prune | int8 | export
    settings: dict
    inputs: dict[str, Path] = field(default_factory=dict)  # role -> upstream file (hashed into the key)

    def key(self, data_fingerprint: str) -> str:
        payload = {"format": FORMAT, "stage": self.name, "kind": self.kind, "settings": self.settings,
                   "data": data_fingerprint, "inputs": {role: sha256_file(p) for role, p in self.inputs.items()}}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def data_fingerprint(root: Path) -> str:
    """The data folder's identity: meta.csv, the fold1 lists and every listed file's name and size.

    Cheap on the real TAU set (no audio is read); another data set, or a regenerated one with other clips,
    gets another fingerprint.
    """
    dataset = load_tau(root)  # validates the TAU layout first (DataError: one line, exit 2)
    digest = hashlib.sha256()
    for relative in ("meta.csv", TRAIN_CSV, EVALUATE_CSV):
        digest.update((root / relative).read_bytes())
    for clip in dataset.clips:
        digest.update(f"{clip.filename}\0{(root / clip.filename).stat().st_size}\n".encode())
    return digest.hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


# -- the plan ------------------------------------------------------------------------------------------------
def _train_settings(config: RecipeConfig, **stage: object) -> dict:
    """The asc-train settings of a training stage that go into its key (paths stand for their roles)."""
    run = config.section("run")
    settings = {"frontend": run["frontend"], "batch_size": run["batch_size"], "seed": run["seed"],
                "mixup": run["mixup"], "spec_augment": run["spec_augment"], "roll": run["roll"],
                "translate_prob": config.get("translator", "translate_prob")}
    settings.update(stage)
    return settings


def plan(config: RecipeConfig, run_dir: Path, gates: dict | None = None) -> list[Stage]:
    """The stages of ``config`` in order; each reads the outputs of the stages before it."""
    stages: list[Stage] = []
    translator = None
    if config.get("translator", "kind") != "none":
        stages.append(Stage("translator", "translator", {
            "kind": config.get("translator", "kind"), "steps": config.get("translator", "steps"),
            "frontend": config.get("run", "frontend"), "seed": config.get("run", "seed")}))
        translator = run_dir / "translator" / "translator.pt"
    shared = {"translator": translator} if translator else {}
    t = config.section("teacher")
    teachers = []
    for index in range(t["count"]):
        name = f"teacher_{index + 1}"
        # Each ensemble member its own seed: identical teachers would add nothing.
        stages.append(Stage(name, "teacher", _train_settings(
            config, preset=t["preset"], epochs=t["epochs"], lr=t["lr"], seed=config.get("run", "seed") + index),
            dict(shared)))
        teachers.append(run_dir / name / CHECKPOINT)
    kd = {f"teacher_{i + 1}": p for i, p in enumerate(teachers)}
    s = config.section("student")
    kd_settings = {"kd_temperature": s["kd_temperature"], "kd_alpha": s["kd_alpha"]} if teachers else {}
    stages.append(Stage("student", "student", _train_settings(
        config, preset=s["preset"], epochs=s["epochs"], lr=s["lr"], **kd_settings), {**shared, **kd}))
    previous = run_dir / "student" / CHECKPOINT
    p = config.section("prune")
    if p["structured"] > 0 or p["unstructured"] > 0:
        stages.append(Stage("prune", "prune", _train_settings(
            config, epochs=p["epochs"], lr=p["lr"], prune_structured=p["structured"],
            prune_unstructured=p["unstructured"], **kd_settings), {"init": previous, **shared, **kd}))
        previous = run_dir / "prune" / CHECKPOINT
    q = config.section("int8")
    if q["qat_epochs"] > 0:
        stages.append(Stage("int8", "int8", _train_settings(
            config, epochs=q["qat_epochs"], lr=q["qat_lr"], qat=True, **kd_settings),
            {"init": previous, **shared, **kd}))
        previous = run_dir / "int8" / CHECKPOINT
    e = config.section("export")
    if e["enabled"]:
        stages.append(Stage("export", "export", {
            "calibration_clips": e["calibration_clips"], "c_array": e["c_array"], "activations": e["activations"],
            "gates": {"relaxed by the user": dict(gates)} if gates else "asc-export defaults",
            "quantisation": "QAT model" if q["qat_epochs"] > 0 else "post-training"}, {"checkpoint": previous}))
    return stages


# -- distributed agreement -------------------------------------------------------------------------------------
def _world() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ.get("RANK", "0")) if world > 1 else 0), world


def _sync_dir(run_dir: Path) -> Path:
    token = "-".join(os.environ.get(k, "") for k in ("TORCHELASTIC_RUN_ID", "TORCHELASTIC_RESTART_COUNT",
                                                     "MASTER_PORT"))
    return run_dir / ".sync" / hashlib.sha256(token.encode()).hexdigest()[:16]


def _agree(run_dir: Path, stage: str, decision: str | None, timeout_s: float = 6 * 3600) -> str:
    """Rank 0 publishes its decision for ``stage``; the other ranks wait for it (a file, no process group yet)."""
    rank, world = _world()
    if world <= 1:
        return decision or ""
    path = _sync_dir(run_dir) / f"{stage}.json"
    if rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(path, {"decision": decision})
        return decision or ""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        published = _read_json(path)
        if published is not None:
            return published["decision"]
        time.sleep(0.2)
    raise ConfigError(f"rank {rank}: rank 0 published no decision for stage {stage!r}")


def _meet_at_the_end(run_dir: Path, timeout_s: float = 6 * 3600) -> None:
    """Every rank says it has read its last decision; rank 0 waits for them all, then removes the sync folder.

    Without this, rank 0 of a run whose stages were all skipped finished within a second and removed the
    folder while a slower rank was still starting, and that rank then waited for decisions that were gone
    (seen in CI: the second torchrun of the two-rank recipe test hung until the test's 600 s timeout).
    """
    rank, world = _world()
    if world <= 1:
        return
    sync = _sync_dir(run_dir)
    if rank != 0:
        sync.mkdir(parents=True, exist_ok=True)
        _write_json(sync / f"finished-{rank}.json", {"rank": rank})
        return
    others = [sync / f"finished-{r}.json" for r in range(1, world)]
    deadline = time.monotonic() + timeout_s
    while not all(path.is_file() for path in others):
        if time.monotonic() > deadline:
            raise ConfigError(f"rank 0: the other ranks did not finish within {timeout_s:.0f} s")
        time.sleep(0.2)
    shutil.rmtree(sync.parent, ignore_errors=True)


def _relaxed_gates(gates: object) -> dict:
    """ExportSettings fields for the thresholds the user relaxed ({} for asc-export's defaults)."""
    return dict(gates["relaxed by the user"]) if isinstance(gates, dict) else {}


# -- running -----------------------------------------------------------------------------------------------------
class Recipe:
    def __init__(self, config: RecipeConfig, data: str, run_dir: str, machine: Machine = Machine(),
                 log: Callable[[str], None] = print, layout: FolderOptions | None = None,
                 balanced: bool = False, gates: dict | None = None) -> None:
        self.config, self.machine = config, machine
        self.data, self.run_dir = Path(data), Path(run_dir)
        self.rank, self.world = _world()
        self._log = log
        self.balanced = balanced
        sample_rate = get_profile(config.get("run", "frontend")).sample_rate
        self.folders = folder_run(self.data, self.run_dir, sample_rate, layout or FolderOptions())  # None: TAU
        if self.folders is not None:
            for line in self.folders.summary_lines():
                self.log(line)
            if config.get("translator", "kind") != "none":
                self.log(NO_TRANSLATOR_NOTE)
                self.config = config = without_translator(config)
        self.fingerprint = self.folders.fingerprint if self.folders else data_fingerprint(self.data)
        self.stages = plan(config, self.run_dir, gates)

    def log(self, line: str) -> None:
        if self.rank == 0:
            self._log(f"asc-train recipe: {line}")

    def check_run_dir(self) -> None:
        """Refuse a RUN_DIR that holds anything but a recipe run on this very data (nothing is touched)."""
        recorded = _read_json(self.run_dir / RECIPE_FILE)
        if recorded is None:
            if self.run_dir.exists() and not self.run_dir.is_dir():
                raise ConfigError(f"{self.run_dir}: is a file, not a run folder")
            # Other files may share the folder (the main job keeps its data and runtime results there), but
            # nothing this recipe would write: those belong to something else and are never replaced.
            ours = {s.name for s in self.stages} | {"report.json", "report.md", "accuracy_vs_size.png"}
            taken = sorted(p.name for p in self.run_dir.iterdir() if p.name in ours) if self.run_dir.is_dir() else []
            if taken:
                raise ConfigError(f"{self.run_dir}: holds {taken[0]} but no {RECIPE_FILE} (not a recipe run); "
                                  "choose another --out folder")
            return
        if recorded.get("format") != FORMAT:
            raise ConfigError(f"{self.run_dir / RECIPE_FILE}: not an asc-train recipe record")
        if recorded.get("data_fingerprint") != self.fingerprint:
            raise ConfigError(f"{self.run_dir}: holds a recipe run on other data ({recorded.get('data')}); "
                              f"its stages do not belong to {self.data}: choose another --out")

    def run(self) -> dict:
        from asc_edge.recipe.report import write_report

        if self.rank == 0:
            self.check_run_dir()
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if self.folders is not None:
                self.folders.write_split()  # before any stage: every stage and the export read this split
            _write_json(self.run_dir / RECIPE_FILE, {
                "format": FORMAT, "package_version": __version__, "data": str(self.data.resolve()),
                "data_fingerprint": self.fingerprint, "config": self.config.to_dict(),
                "stages": [s.name for s in self.stages]})
        self.log(f"{len(self.stages)} stages ({', '.join(s.name for s in self.stages)}) in {self.run_dir}, "
                 f"config {self.config.name}")
        try:
            for stage in self.stages:
                self._run_stage(stage)
                if self.rank == 0:
                    write_report(self.run_dir, self.config, self.stages)
        except BaseException:
            # A failed rank ends the torchrun (its agent stops the others), so nobody waits for these files.
            if self.rank == 0 and self.world > 1:
                shutil.rmtree(_sync_dir(self.run_dir).parent, ignore_errors=True)
            raise
        _meet_at_the_end(self.run_dir)
        if self.rank != 0:
            return {}
        return write_report(self.run_dir, self.config, self.stages)

    def _decide(self, stage: Stage, key: str) -> str:
        """skip | resume | fresh, from the stage's record and files (rank 0 only)."""
        folder = self.run_dir / stage.name
        record = _read_json(folder / STAGE_FILE)
        if record is None or record.get("key") != key:
            return "fresh"
        if record.get("status") == "done":
            return "skip"
        # A refused export is redone, not replayed: its verdict depends on the export code as well as on
        # the inputs in the key, and asc-export's levers change (a rerun costs about a minute).
        if stage.kind not in ("translator", "export") and (folder / CHECKPOINT).is_file():
            return "resume"
        return "fresh"

    def _run_stage(self, stage: Stage) -> None:
        folder = self.run_dir / stage.name
        trains = stage.kind not in ("translator", "export")
        decision = None
        key = ""
        if self.rank == 0:
            key = stage.key(self.fingerprint)
            decision = self._decide(stage, key)
            record = _read_json(folder / STAGE_FILE) or {}
            why = {"skip": "done with the same settings, skipped",
                   "resume": "interrupted, resuming from its last completed epoch",
                   "fresh": ("running" if not record else "settings changed, redoing" if record.get("key") != key
                             else f"{record.get('status')} last time, redoing")}[decision]
            self.log(f"stage {stage.name}: {why}")
            if decision == "fresh":
                shutil.rmtree(folder, ignore_errors=True)  # this stage's own outputs of other settings
                folder.mkdir(parents=True)
            if decision != "skip":
                _write_json(folder / STAGE_FILE, {"stage": stage.name, "kind": stage.kind, "key": key,
                                                  "status": "running", "settings": stage.settings,
                                                  "inputs": {r: str(p) for r, p in stage.inputs.items()}})
        if trains:
            decision = _agree(self.run_dir, stage.name, decision)
        if decision == "skip" or (self.rank != 0 and not trains):
            return
        start = time.monotonic()
        if stage.kind == "translator":
            summary = self._translator_stage(stage, folder)
        elif stage.kind == "export":
            summary = self._export_stage(stage, folder, key, start)
        else:
            summary = self._train_stage(stage, folder, resume=decision == "resume")
        if self.rank == 0:
            _write_json(folder / STAGE_FILE, {
                "stage": stage.name, "kind": stage.kind, "key": key, "status": "done", "settings": stage.settings,
                "inputs": {r: str(p) for r, p in stage.inputs.items()}, "resumed": decision == "resume",
                "wall_s": round(time.monotonic() - start, 2), "summary": summary})

    def _translator_stage(self, stage: Stage, folder: Path) -> dict:
        from asc_edge.audio.profiles import get_profile
        from asc_edge.train.checkpoint import save_atomic
        from asc_edge.train.data import load_training_data
        from asc_edge.train.translator import fit_of_kind, format_fit_report

        data = load_training_data(self.data, get_profile(stage.settings["frontend"]), self.machine.cache_dir,
                                  self.machine.workers, progress=self.machine.progress)
        translator = fit_of_kind(stage.settings["kind"])(data, steps=stage.settings["steps"],
                                                         seed=stage.settings["seed"])
        save_atomic(translator.to_dict(), folder / "translator.pt")
        self.log(f"{stage.settings['kind']} translator, held-out fit:\n{format_fit_report(translator)}")
        return {"devices": list(translator.devices), "fit": translator.fit_report}

    def _train_stage(self, stage: Stage, folder: Path, resume: bool) -> dict:
        from asc_edge.train.augment import AugmentConfig
        from asc_edge.train.checkpoint import load_checkpoint
        from asc_edge.train.settings import TrainSettings
        from asc_edge.train.trainer import train

        s = dict(stage.settings)
        teachers = tuple(str(p) for role, p in stage.inputs.items() if role.startswith("teacher_"))
        extra = {k: s[k] for k in ("preset", "prune_structured", "prune_unstructured", "qat", "kd_temperature",
                                   "kd_alpha") if k in s}
        init = stage.inputs.get("init")
        settings = TrainSettings(
            data=str(self.data), out=str(folder / CHECKPOINT), frontend=None if init else s["frontend"],
            epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"], seed=s["seed"], device=self.machine.device,
            resume=resume, overwrite=not resume, cache_dir=self.machine.cache_dir, workers=self.machine.workers,
            augment=AugmentConfig(mixup_alpha=s["mixup"], roll_fraction=s["roll"]), spec_augment=s["spec_augment"],
            teachers=teachers, translator=str(stage.inputs["translator"]) if "translator" in stage.inputs else None,
            translate_prob=s["translate_prob"], init=str(init) if init else None,
            # The recipe's own int8 stage is the QAT (a --qat stage); the stages before it stay float.
            qat_epochs=0, simulate_int8=False,
            progress=self.machine.progress, balanced=self.balanced,
            layout=self.folders.options_for_stages() if self.folders else {}, **extra)
        train(settings, log=self.log if self.rank == 0 else (lambda _line: None))
        if self.rank != 0:
            return {}
        checkpoint = load_checkpoint(folder / CHECKPOINT)
        return {"preset": checkpoint.get("preset"), "epochs": checkpoint["training"]["epoch"],
                "metrics": _headline(checkpoint["metrics"]), "size": checkpoint.get("size"),
                "compression": checkpoint.get("compression")}

    def _export_stage(self, stage: Stage, folder: Path, key: str, start: float) -> dict:
        from asc_edge.export.pipeline import ExportSettings, export_checkpoint

        settings = ExportSettings(checkpoint=str(stage.inputs["checkpoint"]), out_dir=str(folder),
                                  calib=str(self.data), calibration_clips=stage.settings["calibration_clips"],
                                  c_array=stage.settings["c_array"], activations=stage.settings["activations"],
                                  **_relaxed_gates(stage.settings["gates"]), cache_dir=self.machine.cache_dir,
                                  progress=self.machine.progress)
        try:
            result = export_checkpoint(settings, log=self.log)
        except ExportError as exc:
            # A refusal is a result (the gates are the verdict): record it so that the report shows it, then
            # stop with the one-line reason.
            _write_json(folder / STAGE_FILE, {
                "stage": stage.name, "kind": stage.kind, "key": key,
                "status": "refused" if getattr(exc, "report", None) else "failed", "settings": stage.settings,
                "inputs": {r: str(p) for r, p in stage.inputs.items()}, "error": str(exc),
                "wall_s": round(time.monotonic() - start, 2),
                "summary": _export_summary(getattr(exc, "report", None) or {})})
            from asc_edge.recipe.report import write_report

            write_report(self.run_dir, self.config, self.stages)
            raise
        return _export_summary(result.report)


def _headline(metrics: dict) -> dict:
    return {"accuracy": metrics.get("accuracy"), "log_loss": metrics.get("log_loss"),
            "seen": (metrics.get("seen") or {}).get("accuracy"),
            "unseen": (metrics.get("unseen") or {}).get("accuracy")}


def _export_summary(report: dict) -> dict:
    if not report:
        return {}
    keys = ("passed", "failures", "file_bytes", "max_bytes", "parameters", "nonzero_parameters",
            "dcase2021_size_bytes", "macs", "fidelity", "gates", "timings_s", "settings")
    return {k: report.get(k) for k in keys}


def run_recipe(config: RecipeConfig, data: str, run_dir: str, machine: Machine = Machine(),
               log: Callable[[str], None] = print, layout: FolderOptions | None = None,
               balanced: bool = False, gates: dict | None = None) -> dict:
    """Run (or continue) the recipe; returns the report dict (empty on ranks other than 0). ``layout``: a folder
    per label's options (None: TAU); ``gates``: export thresholds the user relaxed (asc-train recipe
    --min-agreement ...); {} or None: asc-export's defaults."""
    return Recipe(config, data, run_dir, machine, log, layout, balanced, gates).run()
