"""Everything one ``asc-train`` run is configured with; recorded in each checkpoint for ``--resume``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from asc_edge.plumbing.errors import ConfigError
from asc_edge.train.augment import AugmentConfig
from asc_edge.train.models import RESNORM_MODES

# A resumed run keeps its recorded settings except these, which may legitimately change between sessions.
RESUME_OVERRIDABLE = ("data", "out", "epochs", "device", "workers", "cache_dir", "progress", "report_dir", "resume",
                      "overwrite")


@dataclass(frozen=True)
class TrainSettings:
    data: str
    out: str
    preset: str = "student"
    frontend: str | None = None  # profile name; None: the --init checkpoint's, else the default profile
    epochs: int = 30
    batch_size: int = 32
    lr: float | None = None  # None: the optimiser's default (schedule.DEFAULT_LR)
    weight_decay: float | None = None
    optimizer: str = "adamw"
    warmup_epochs: float = 1.0
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    overwrite: bool = False
    cache_dir: str | None = None
    workers: int | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    spec_augment: bool = True
    resnorm: str | None = None  # ablation override of the preset's ResNorm mode
    # Ablation overrides of any other preset ModelConfig field (benchmarks only, not a CLI flag).
    model_overrides: dict = field(default_factory=dict)
    teachers: tuple[str, ...] = ()
    kd_temperature: float = 2.0
    kd_alpha: float = 0.5
    translator: str | None = None
    translate_prob: float = 0.3
    init: str | None = None  # start from a trained checkpoint (pruning, QAT and other fine-tuning stages)
    prune_structured: float = 0.0
    prune_unstructured: float = 0.0
    qat: bool = False  # a QAT-only stage (needs --init): every one of --epochs runs the int8 simulation
    # Converter-faithful QAT (train/int8_sim.py) after the float epochs, for the device presets: this many extra
    # epochs train the int8 simulation with ranges the export writes as they are. 0 with simulate_int8: ranges
    # calibrated and the simulation evaluated, no QAT epochs. simulate_int8=False (--no-qat): a float checkpoint.
    qat_epochs: int = 3
    qat_lr: float = 3e-4
    simulate_int8: bool = True
    report_dir: str | None = None
    progress: bool = True
    layout: dict = field(default_factory=dict)  # a folder per label: FolderOptions as a dict (a TAU folder: unused)
    balanced: bool = False  # draw each epoch's clips with equal weight per label (with replacement)

    def check(self) -> None:
        """Refuse impossible combinations up front, before any data is read."""
        problems = []
        if self.epochs < 1 or self.batch_size < 1:
            problems.append("--epochs and --batch-size must be at least 1")
        # Written as "not (good)" so that NaN, which fails every comparison, is refused too.
        if self.lr is not None and not 0 < self.lr < math.inf:
            problems.append(f"--lr must be a positive finite number, got {self.lr}")
        if self.weight_decay is not None and not 0 <= self.weight_decay < math.inf:
            problems.append(f"--weight-decay must be a finite number >= 0, got {self.weight_decay}")
        if not 0 <= self.warmup_epochs < math.inf:
            problems.append(f"--warmup-epochs must be a finite number >= 0, got {self.warmup_epochs}")
        if not 0 <= self.augment.mixup_alpha < math.inf:
            problems.append(f"--mixup must be a finite number >= 0, got {self.augment.mixup_alpha}")
        if self.seed < 0:
            problems.append(f"--seed must be at least 0, got {self.seed}")
        if self.resnorm is not None and self.resnorm not in RESNORM_MODES:
            problems.append(f"--resnorm must be one of {', '.join(RESNORM_MODES)}")
        if not 0.0 <= self.kd_alpha <= 1.0 or not 0 < self.kd_temperature < math.inf:
            problems.append("--kd-alpha must be in [0, 1] and --kd-temperature positive")
        if not 0.0 <= self.translate_prob <= 1.0:
            problems.append(f"--translate-prob must be in [0, 1], got {self.translate_prob}")
        if not 0.0 <= self.prune_structured < 1.0 or not 0.0 <= self.prune_unstructured < 1.0:
            problems.append("pruning fractions must be in [0, 1)")
        needs_init = [flag for flag, on in (("--prune-structured", self.prune_structured > 0),
                                            ("--prune-unstructured", self.prune_unstructured > 0),
                                            ("--qat", self.qat)) if on]
        if needs_init and not self.init and not self.resume:
            problems.append(f"{', '.join(needs_init)} fine-tune a trained model: pass --init MODEL.pt")
        if self.qat_epochs < 0 or not 0 < self.qat_lr < math.inf:
            problems.append("--qat-epochs must be at least 0 and --qat-lr a positive finite number")
        if self.resume and self.overwrite:
            problems.append("--resume and --overwrite contradict each other")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def qat_start(self) -> int:
        """The first epoch that trains the int8 simulation (== total_epochs when none does)."""
        return 0 if self.qat else self.epochs

    @property
    def total_epochs(self) -> int:
        return self.epochs if self.qat else self.epochs + (self.qat_epochs if self.simulate_int8 else 0)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["teachers"] = list(self.teachers)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainSettings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["augment"] = AugmentConfig(**values.get("augment", {}))
        values["teachers"] = tuple(values.get("teachers", ()))
        return cls(**values)

    def resumed_with(self, current: TrainSettings) -> TrainSettings:
        """These recorded settings, with the fields a resuming command line may change taken from ``current``."""
        return replace(self, **{name: getattr(current, name) for name in RESUME_OVERRIDABLE})
