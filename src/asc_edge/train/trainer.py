"""The training run behind ``asc-train``: build or load the model, train, evaluate every epoch, checkpoint.

``settings.out`` always holds the last completed epoch (with optimiser state, so ``--resume`` continues
without losing a finished epoch); ``<out>.best.pt`` holds the epoch with the best macro accuracy on
``fold1_evaluate``. Under ``torchrun`` every rank trains on its own shard; rank 0 evaluates and writes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional
from torch.nn.parallel import DistributedDataParallel

from asc_edge.audio.config import FrontendConfig
from asc_edge.audio.labels import REFERENCE_DEVICE
from asc_edge.audio.profiles import DEFAULT_PROFILE, get_profile
from asc_edge.plumbing.errors import AscEdgeError, CheckpointError, ConfigError
from asc_edge.plumbing.output_paths import require_writable
from asc_edge.train import distributed
from asc_edge.train.augment import mixup, random_gain, spec_augment, time_roll
from asc_edge.train.checkpoint import (
    frontend_of,
    load_checkpoint,
    make_checkpoint,
    model_from_checkpoint,
    require_compatible,
    save_atomic,
)
from asc_edge.train.data import TrainingData, load_training_data
from asc_edge.train.data_layout import epoch_order, folder_layout, log_on_main, write_split
from asc_edge.train.distill import distillation_loss, teacher_logits
from asc_edge.train.evaluate import evaluate_split
from asc_edge.train.int8_sim import RECORD_KEY, Int8Simulation, simulation_from_record, supports
from asc_edge.train.models import BCResNetMod
from asc_edge.train.presets import preset_config
from asc_edge.train.prune import apply_masks, magnitude_masks, masks_from_zeros, prune_channels
from asc_edge.train.report import write_metrics_json, write_plots
from asc_edge.train.schedule import make_optimizer, warmup_cosine
from asc_edge.train.settings import TrainSettings
from asc_edge.train.size import model_size, parameter_counts
from asc_edge.train.translator import load_translator


class DivergedError(AscEdgeError):
    """The loss or a weight became NaN or infinite: the run stops rather than save a broken model."""


def _first_non_finite(model: torch.nn.Module) -> str | None:
    """Name of the first parameter or float buffer holding a NaN or an infinity.

    Fast path, one device sync per step: a NaN or an infinity anywhere makes the sum of all sums non-finite
    (0.7 ms per step for the student, 7 ms for the teacher on a loaded 2-core CPU; per-tensor isfinite took
    2 and 74 ms). Only then is each tensor checked, so a sum that merely overflows float32 is not a false alarm.
    """
    tensors = [(n, t.detach()) for n, t in (*model.named_parameters(), *model.named_buffers())
               if t.is_floating_point()]
    if not tensors or bool(torch.stack([t.sum() for _, t in tensors]).sum().isfinite()):
        return None
    return next((n for n, t in tensors if not bool(t.isfinite().all())), None)


def data_source(data: TrainingData, given: str) -> dict:
    """Where the training data came from: the absolute root (a relative path breaks from another folder),
    the path as given, and a fingerprint of its meta.csv and splits."""
    import hashlib
    import os

    root = data.dataset.root
    meta = root / "meta.csv"
    return {"root": os.path.abspath(root), "given": given,
            "meta_csv_sha256": hashlib.sha256(meta.read_bytes()).hexdigest() if meta.is_file() else None,
            "clips": {"train": len(data.train), "evaluate": len(data.evaluate)}, **data.dataset.record()}


def _require_writable_outputs(settings: TrainSettings) -> None:
    """Every file and folder this run writes must be writable now (the feature cache checks its own)."""
    require_writable(settings.out, "checkpoint (--out)", is_dir=False, error=ConfigError)
    require_writable(best_path(settings.out), "best checkpoint", is_dir=False, error=ConfigError)
    require_writable(report_dir(settings), "report folder", is_dir=True, error=ConfigError)


def best_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.best{out.suffix or '.pt'}")


def report_dir(settings: TrainSettings) -> Path:
    out = Path(settings.out)
    return Path(settings.report_dir) if settings.report_dir else out.with_name(f"{out.stem}_report")


def _resolve_frontend(settings: TrainSettings, init: dict | None) -> FrontendConfig:
    if init is None:
        return get_profile(settings.frontend or DEFAULT_PROFILE)
    frontend = frontend_of(init)
    if settings.frontend and get_profile(settings.frontend).digest() != frontend.digest():
        raise ConfigError(f"--frontend {settings.frontend} differs from the --init checkpoint's frontend "
                          f"{frontend.name!r}; a fine-tuning stage must keep its model's frontend")
    return frontend


def _inherited(checkpoint: dict | None) -> dict:
    """Compression facts of the checkpoint a stage starts from (pruning, KD, QAT of earlier stages)."""
    return dict((checkpoint or {}).get("compression") or {})


def _build_model(settings: TrainSettings, data: TrainingData, init: dict | None,
                 resumed: dict | None) -> tuple[BCResNetMod, dict[str, torch.Tensor], str]:
    """The model to train, the unstructured-pruning masks (maybe empty) and its preset name."""
    if resumed is not None:
        model = model_from_checkpoint(resumed, settings.out).train()
        sparse = settings.prune_unstructured > 0 or _inherited(resumed).get("unstructured_sparsity", 0) > 0
        return model, (masks_from_zeros(model) if sparse else {}), resumed["preset"]
    if init is not None:
        require_compatible(init, settings.init, "--init model", data.labels, data.frontend, data.input_shape)
        model = model_from_checkpoint(init, settings.init).train()
        if settings.prune_structured > 0:
            model = prune_channels(model, settings.prune_structured)
        if settings.prune_unstructured > 0:
            masks = magnitude_masks(model, settings.prune_unstructured)
        elif _inherited(init).get("unstructured_sparsity", 0) > 0:
            masks = masks_from_zeros(model)  # a later stage (e.g. QAT) keeps an earlier stage's zeros
        else:
            masks = {}
        return model, masks, init["preset"]
    n_mels, n_frames = data.input_shape
    config = preset_config(settings.preset, n_mels, len(data.labels))
    if settings.resnorm:
        config = replace(config, resnorm=settings.resnorm)
    if settings.model_overrides:
        config = replace(config, **settings.model_overrides)
    if n_frames < 8:
        raise ConfigError(f"clips give {n_frames} frames; preset {settings.preset!r} needs at least 8")
    return BCResNetMod(config), {}, settings.preset


class TrainingForward(torch.nn.Module):
    """The forward the optimiser trains through: the float model, or once QAT starts its int8 simulation."""

    def __init__(self, model: BCResNetMod, simulation: Int8Simulation | None = None) -> None:
        super().__init__()
        self.model = model
        self.simulation = simulation  # the same parameters as ``model``: it holds ``model`` itself

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) if self.simulation is None else self.simulation(x)


class Trainer:
    """One run; ``run()`` trains from the first unfinished epoch to ``settings.epochs``."""

    def __init__(self, settings: TrainSettings, log: Callable[[str], None] = print) -> None:
        settings.check()
        self.log = log
        self.context = distributed.setup(settings.device)
        resumed = None
        out = Path(settings.out)
        if settings.resume:
            if not out.is_file():
                raise CheckpointError(f"{out}: nothing to resume (no such checkpoint); drop --resume to start")
            resumed = load_checkpoint(out)
            if "training" not in resumed:
                raise CheckpointError(f"{out}: has no training state to resume (an exported or final model?)")
            settings = TrainSettings.from_dict(resumed["training"]["settings"]).resumed_with(settings)
        elif out.exists() and not settings.overwrite:
            raise ConfigError(f"{out} exists; pass --resume to continue that run or --overwrite to replace it")
        self.settings = settings
        _require_writable_outputs(settings)  # before minutes of feature extraction, not after the first epoch
        init = load_checkpoint(settings.init) if settings.init else None
        frontend = frontend_of(resumed) if resumed is not None else _resolve_frontend(settings, init)
        self.data = self._load_data(frontend, resumed or init)
        self.data_source = data_source(self.data, settings.data)
        torch.manual_seed(settings.seed)  # same initial weights on every rank and every run of a seed
        self.model, self.masks, self.preset = _build_model(settings, self.data, init, resumed)
        self.inherited = _inherited(resumed if resumed is not None else init)
        shape = (1, 1, *self.data.input_shape)
        self.dense_size = model_size(self.model, shape)
        self.model.to(self.context.device)
        self._plan_int8(resumed)
        self.teacher = self._teacher_logits()
        self.translator = self._translator()
        self.per_rank = len(self.data.train) // self.context.world_size
        if self.per_rank < 1:
            raise ConfigError("fewer training clips than ranks")
        self.steps_per_epoch = math.ceil(self.per_rank / settings.batch_size)
        self.optimizer = make_optimizer(settings.optimizer, self.model.parameters(), settings.lr,
                                        settings.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor())
        # One module trains for the whole run, float model then int8 simulation over the same parameters, so that
        # DistributedDataParallel wraps it once and the switch to QAT happens inside it.
        self.training_forward = TrainingForward(self.model, self.simulation)
        self.network = DistributedDataParallel(self.training_forward) if self.context.distributed \
            else self.training_forward
        self.epoch, self.history, self.best_accuracy = 0, [], -1.0
        self.epoch_done = 0
        if resumed is not None:
            training = resumed["training"]
            self.optimizer.load_state_dict(training["optimizer"])
            self.scheduler.load_state_dict(training["scheduler"])
            self.epoch, self.history = int(training["epoch"]), list(training["history"])
            self.best_accuracy = float(training["best_accuracy"])
            self.float_metrics = resumed.get("metrics_float")

    # -- int8 simulation (converter-faithful QAT) ------------------------------------------------------------
    def _plan_int8(self, resumed: dict | None) -> None:
        """Whether and from which epoch this run trains the int8 simulation; a resumed QAT run gets its ranges."""
        s = self.settings
        problem = supports(self.model)
        if s.qat and problem:
            raise ConfigError(f"--qat: the int8 simulation does not support this model's {problem}")
        self.simulate = (s.qat or s.simulate_int8) and problem is None
        self.total_epochs = s.total_epochs if self.simulate else s.epochs
        self.simulation: Int8Simulation | None = None
        self.float_metrics: dict | None = None
        if resumed is not None and RECORD_KEY in resumed and self.simulate:
            example = torch.zeros(1, 1, *self.data.input_shape)
            self.simulation = simulation_from_record(self.model, resumed[RECORD_KEY], example, str(s.out))

    def _lr_factor(self):
        """Warm-up and cosine over the float epochs (or over a --qat stage), then a cosine from --qat-lr to 0."""
        s, steps = self.settings, self.steps_per_epoch
        float_epochs = s.epochs  # a --qat stage: the whole stage, as before
        main = warmup_cosine(float_epochs * steps, round(s.warmup_epochs * steps))
        if s.qat or not self.simulate or s.qat_epochs == 0:
            return main
        peak = self.optimizer.param_groups[0]["lr"]
        qat_steps = s.qat_epochs * steps

        def factor(step: int) -> float:
            if step < float_epochs * steps:
                return main(step)
            progress = min(1.0, (step - float_epochs * steps) / qat_steps)
            return s.qat_lr / peak * 0.5 * (1.0 + math.cos(math.pi * progress))

        return factor

    def _calibration_batches(self) -> list[torch.Tensor]:
        """A fixed, seeded set of up to 300 training clips (the export's calibration count), in batches."""
        order = np.random.default_rng(self.settings.seed).permutation(len(self.data.train))[:300]
        rows = self.data.train.rows[np.sort(order)]
        return [self.data.batch(rows[i:i + 64]).to(self.context.device) for i in range(0, rows.size, 64)]

    def _calibrate_int8(self) -> None:
        """Enter the int8 simulation (once) and set its ranges from the current weights."""
        if self.simulation is None:
            self.simulation = Int8Simulation(self.model)
            self.training_forward.simulation = self.simulation
        self.simulation.calibrate(self._calibration_batches())

    def _evaluated(self) -> torch.nn.Module:
        """What the run evaluates and reports: the int8 simulation once it is on, else the float model."""
        return self.simulation if self.simulation is not None else self.model

    def _load_data(self, frontend: FrontendConfig, earlier: dict | None) -> TrainingData:
        s = self.settings
        layout = folder_layout(s.layout, earlier)
        data = self.context.main_first(lambda is_main: load_training_data(
            s.data, frontend, s.cache_dir, s.workers, progress=s.progress and is_main, layout=layout,
            log=log_on_main(is_main)))
        if self.context.is_main:
            write_split(data, report_dir(s))
        return data

    def _teacher_logits(self) -> torch.Tensor | None:
        if not self.settings.teachers:
            return None
        teachers = list(self.settings.teachers)
        return torch.from_numpy(self.context.main_first(lambda _is_main: teacher_logits(teachers, self.data)))

    def _translator(self):
        if not self.settings.translator:
            return None
        translator = load_translator(self.settings.translator)
        if translator.frontend.digest() != self.data.frontend.digest():
            raise CheckpointError(f"{self.settings.translator}: translator was fitted on frontend "
                                  f"{translator.frontend.name!r}, training uses {self.data.frontend.name!r}")
        return translator

    # -- one epoch -------------------------------------------------------------------------------------------
    def _batch(self, positions: np.ndarray, rng: np.random.Generator, generator: torch.Generator):
        s, split = self.settings, self.data.train
        x = self.data.batch(split.rows[positions])
        if self.translator is not None and s.translate_prob > 0:
            is_reference = np.array([split.devices[i] == REFERENCE_DEVICE for i in positions])
            chosen = np.flatnonzero(is_reference & (rng.random(positions.size) < s.translate_prob))
            if chosen.size:
                targets = torch.from_numpy(rng.integers(0, len(self.translator.devices), size=chosen.size))
                x[chosen] = self.translator.translate(x[chosen], targets, generator)
        x = time_roll(x, int(s.augment.roll_fraction * x.shape[-1]), rng)
        x = random_gain(x, s.augment.gain_db, rng)
        targets = functional.one_hot(torch.from_numpy(split.labels[positions]), len(self.data.labels)).float()
        extra = ()
        if self.teacher is not None:
            extra = (torch.softmax(self.teacher[positions] / s.kd_temperature, dim=1),)
        x, targets, *extra = mixup(x, targets, s.augment.mixup_alpha, rng, *extra)
        if s.spec_augment:
            x = spec_augment(x, s.augment, rng)
        return x, targets, (extra[0] if extra else None)

    def _train_epoch(self, epoch: int) -> dict:
        from asc_edge.data.progress import Progress

        s, ctx = self.settings, self.context
        order = epoch_order(self.data.train, s.seed, epoch, s.balanced)
        mine = order[ctx.rank * self.per_rank:(ctx.rank + 1) * self.per_rank]
        rng = np.random.default_rng([s.seed, epoch, ctx.rank, 1])
        generator = torch.Generator().manual_seed(s.seed * 1_000_003 + epoch * 101 + ctx.rank)
        self.network.train()
        torch.manual_seed(s.seed * 1_000_003 + epoch * 101 + ctx.rank)  # dropout: replayable on --resume
        totals = np.zeros(3)  # loss sum, correct, clips
        start = time.monotonic()
        label = f"epoch {epoch + 1}/{s.epochs}"
        with Progress(self.steps_per_epoch, label, enabled=s.progress and ctx.is_main) as bar:
            for first in range(0, mine.size, s.batch_size):
                positions = mine[first:first + s.batch_size]
                x, targets, teacher = self._batch(positions, rng, generator)
                step = first // s.batch_size + 1
                if not bool(torch.isfinite(x).all()):
                    bad = [self.data.train.filenames[p] for p, ok in
                           zip(positions, torch.isfinite(x).flatten(1).all(1).tolist()) if not ok]
                    raise self._diverged(epoch, step, "the input features are not finite",
                                         f"the clip {bad[0]!r} (its audio or the feature cache is corrupt)")
                logits = self.network(x.to(ctx.device))
                targets = targets.to(ctx.device)
                loss = -(targets * functional.log_softmax(logits, dim=1)).sum(dim=1).mean()
                if teacher is not None:
                    kd = distillation_loss(logits, teacher.to(ctx.device), s.kd_temperature)
                    loss = (1 - s.kd_alpha) * loss + s.kd_alpha * kd
                loss_value = loss.item()
                # Single process: stop before a non-finite loss reaches the weights. Under torchrun the
                # weight check below is what stops every rank at the same step (gradients are averaged).
                if not math.isfinite(loss_value) and not ctx.distributed:
                    raise self._diverged(epoch, step, f"the loss is {loss_value}", self._likely_cause())
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step()
                if self.masks:
                    apply_masks(self.model, self.masks)
                broken = _first_non_finite(self.model)
                if broken is not None:
                    raise self._diverged(epoch, step, f"weight {broken} is not finite", self._likely_cause())
                totals += [loss_value * positions.size,
                           float((logits.argmax(1) == targets.argmax(1)).sum()), positions.size]
                bar.advance(status=f"loss {totals[0] / totals[2]:.3f} acc {100 * totals[1] / totals[2]:.1f}%")
        seconds = time.monotonic() - start
        loss_sum, correct, clips = ctx.all_reduce_sum(totals.tolist())
        return {"epoch": epoch + 1, "train_loss": loss_sum / clips, "train_accuracy": correct / clips,
                "train_seconds": seconds, "clips_per_second": clips / seconds if seconds > 0 else None,
                "lr": self.optimizer.param_groups[0]["lr"]}

    def _likely_cause(self) -> str:
        s = self.settings
        peak = self.optimizer.param_groups[0].get("initial_lr", self.optimizer.param_groups[0]["lr"])
        return (f"the learning rate (peak {peak:g}{'' if s.lr is not None else ', the default'}) is too high "
                f"for this model and data; try --lr {peak / 10:g}")

    def _diverged(self, epoch: int, step: int, what: str, cause: str) -> DivergedError:
        out = Path(self.settings.out)
        kept = (f"{out} keeps epoch {self.epoch_done}, the last good one" if self.epoch_done and out.is_file()
                else "this run wrote no checkpoint")
        return DivergedError(f"training stopped at epoch {epoch + 1}, step {step}/{self.steps_per_epoch}: "
                                f"{what}; likely cause: {cause}; {kept}")

    # -- run -------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        try:
            if self.epoch >= self.total_epochs and self.context.is_main:
                self.log(f"{self.settings.out}: all {self.total_epochs} epochs are already done")
            metrics = None
            for epoch in range(self.epoch, self.total_epochs):
                self.epoch_done = epoch
                if self.simulate and epoch >= self.settings.qat_start:
                    self._calibrate_int8()  # each QAT epoch trains against ranges of the current weights
                record = self._train_epoch(epoch)
                if self.context.is_main:
                    metrics = evaluate_split(self._evaluated(), self.data, self.data.evaluate,
                                             self.context.device)
                    metrics["unseen_devices"] = list(self.data.unseen_devices)
                    record.update(eval_accuracy=metrics["accuracy"], eval_log_loss=metrics["log_loss"],
                                  eval_seen=metrics["seen"]["accuracy"], eval_unseen=metrics["unseen"]["accuracy"])
                    record["int8_simulation"] = self.simulation is not None
                    if self.simulation is None:
                        self.float_metrics = metrics
                    self.history.append(record)
                    self._save(epoch + 1, metrics)
                    self.log(_epoch_line(record, self.total_epochs))
                self.context.barrier()
            if self.simulate and self.simulation is None and self.context.is_main:
                metrics = self._calibrate_only()
            return self._finish(metrics) if self.context.is_main else {}
        finally:
            distributed.teardown(self.context)

    def _calibrate_only(self) -> dict:
        """--qat-epochs 0: ranges from the final weights and the simulation evaluated, with no QAT epoch."""
        self._calibrate_int8()
        metrics = evaluate_split(self.simulation, self.data, self.data.evaluate, self.context.device)
        self._save(self.total_epochs, metrics, improved=False)
        before = f" (float {100 * self.float_metrics['accuracy']:.1f}%)" if self.float_metrics else ""
        self.log(f"int8 simulation (ranges calibrated, no QAT epochs): eval acc {100 * metrics['accuracy']:.1f}%"
                 + before)
        return metrics

    def _checkpoint(self, epoch: int, metrics: dict) -> dict:
        s = self.settings
        _, nonzero, dcase_bytes = parameter_counts(self.model)  # pruning zeros change while training
        size = asdict(replace(self.dense_size, nonzero_parameters=nonzero, dcase_size_bytes=dcase_bytes))
        compression = {"structured_pruning": 0.0, "unstructured_sparsity": 0.0, "qat": False,
                       "distilled_from": [], "translator": None, **self.inherited}
        stage = {"structured_pruning": s.prune_structured, "unstructured_sparsity": s.prune_unstructured,
                 "qat": self.simulation is not None, "distilled_from": list(s.teachers), "translator": s.translator}
        compression.update({key: value for key, value in stage.items() if value})
        compression["sparsity"] = 1.0 - nonzero / max(1, self.dense_size.parameters)
        training = {"epoch": epoch, "epochs": s.epochs, "settings": s.to_dict(),
                    "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                    "history": self.history, "best_accuracy": self.best_accuracy}
        extra = {RECORD_KEY: self.simulation.ranges_record()} if self.simulation is not None else {}
        return make_checkpoint(self.model, self.data.frontend, list(self.data.labels), self.data.input_shape,
                               self.preset, training=training, metrics=metrics, size=size,
                               compression=compression, data=self.data_source, metrics_float=self.float_metrics,
                               **extra)

    def _save(self, epoch: int, metrics: dict, improved: bool | None = None) -> None:
        improved = metrics["accuracy"] > self.best_accuracy if improved is None else improved
        if improved:
            self.best_accuracy = metrics["accuracy"]
        checkpoint = self._checkpoint(epoch, metrics)
        save_atomic(checkpoint, self.settings.out)
        if improved:
            save_atomic(checkpoint, best_path(self.settings.out))
        write_metrics_json(report_dir(self.settings), self._report(checkpoint))

    def _report(self, checkpoint: dict) -> dict:
        return {"preset": checkpoint["preset"], "model_config": checkpoint["model_config"],
                "frontend": checkpoint["frontend_config"], "size": checkpoint["size"],
                "compression": checkpoint["compression"], "settings": self.settings.to_dict(),
                "epochs_done": checkpoint["training"]["epoch"], "best_eval_accuracy": self.best_accuracy,
                "final": checkpoint["metrics"], "history": self.history}

    def _finish(self, metrics: dict | None) -> dict:
        folder = report_dir(self.settings)
        if metrics is None:  # nothing trained in this call: report the stored state
            metrics = load_checkpoint(self.settings.out)["metrics"]
        plots = write_plots(folder, metrics, f"{self.preset} ({Path(self.settings.out).name})")
        return {"out": self.settings.out, "best": str(best_path(self.settings.out)), "report": str(folder),
                "plots": [str(p) for p in plots], "metrics": metrics, "history": self.history}


def _epoch_line(record: dict, epochs: int) -> str:
    known = [f"{name} {100 * v:.1f}" for name, v in (("seen", record["eval_seen"]), ("unseen", record["eval_unseen"]))
             if v is not None]  # no device labels: nothing to say, not "(seen -, unseen -)"
    return (f"epoch {record['epoch']}/{epochs}  loss {record['train_loss']:.3f}  "
            f"train acc {100 * record['train_accuracy']:.1f}%  eval acc {100 * record['eval_accuracy']:.1f}% "
            f"{'(' + ', '.join(known) + ')  ' if known else ' '}log loss {record['eval_log_loss']:.3f}  "
            f"{record['clips_per_second']:.0f} clips/s")


def train(settings: TrainSettings, log: Callable[[str], None] = print) -> dict:
    """Run ``asc-train`` with ``settings``; returns paths and the last epoch's evaluation metrics."""
    return Trainer(settings, log).run()
