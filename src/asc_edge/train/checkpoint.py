"""The checkpoint contract shared by training, export and the runtime's model builder.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(weights_only=True)`` (no pickled code ever runs). It carries everything needed to rebuild the
model and its input: model config, frontend config, labels, input shape, preset and package version.
Files are written to a temporary name and renamed, so an interrupted save never leaves a file that looks valid.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from asc_edge.audio.config import FrontendConfig
from asc_edge.plumbing.atomic_io import write_atomic
from asc_edge.plumbing.errors import AscEdgeError, CheckpointError
from asc_edge.plumbing.version import __version__
from asc_edge.train.models import BCResNetMod, ModelConfig

FORMAT = "asc-edge-checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("model_config", "frontend_config", "labels", "input_shape", "state_dict")


def make_checkpoint(model: torch.nn.Module, frontend: FrontendConfig, labels: list[str],
                    input_shape: tuple[int, int], preset: str, **extra: Any) -> dict:
    """A checkpoint dict; ``extra`` holds training state, metrics, compression facts."""
    core = model.module if hasattr(model, "module") else model  # unwrap DistributedDataParallel
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
            "preset": preset, "model_config": core.config.to_dict(), "frontend_config": frontend.to_dict(),
            "labels": list(labels), "input_shape": [int(v) for v in input_shape],
            "state_dict": {k: v.detach().cpu().clone() for k, v in core.state_dict().items()}, **extra}


def save_atomic(obj: Any, path: str | Path) -> None:
    """``torch.save`` through the one atomic writer (a temp file in the target folder, renamed over ``path``);
    the folder is created, and a file system that refuses the write is a :class:`CheckpointError`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda handle: torch.save(obj, handle))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write here ({exc.strerror or exc})") from exc


def load_file(path: str | Path, kind: str = "checkpoint") -> dict:
    """``torch.load(weights_only=True)`` with one clear :class:`CheckpointError` for every failure."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such {kind} file")
    if not zipfile.is_zipfile(path):  # every torch.save since PyTorch 1.6 writes a zip archive
        raise CheckpointError(f"{path}: not a readable {kind} (not a PyTorch zip archive: corrupt, truncated "
                              f"or another format)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).split("WeightsUnpickler error:")[-1].strip().splitlines()[0][:120]
        raise CheckpointError(f"{path}: refused: the file contains pickled code or objects, not a plain "
                              f"asc-edge {kind} ({detail})") from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: not a readable {kind} (corrupt or truncated: "
                              f"{str(exc).splitlines()[0][:120]})") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not an asc-edge {kind} (holds a {type(data).__name__})")
    return data


def load_checkpoint(path: str | Path) -> dict:
    """A validated classifier checkpoint."""
    data = load_file(path)
    if data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an asc-edge checkpoint (no '{FORMAT}' format tag); "
                              f"train one with asc-train")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {data['format_version']} is newer than this "
                              f"asc-edge ({__version__}) reads; upgrade asc-edge")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")
    return data


def frontend_of(checkpoint: dict) -> FrontendConfig:
    try:
        return FrontendConfig.from_dict(checkpoint["frontend_config"])
    except (AscEdgeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint frontend config is invalid: {exc}") from exc


def require_compatible(checkpoint: dict, path: str | Path, role: str, labels: tuple[str, ...] | list[str],
                       frontend: FrontendConfig, input_shape: tuple[int, int]) -> None:
    """Refuse a checkpoint (a teacher, an --init model) made for other labels, frontend or clip length."""
    if list(checkpoint["labels"]) != list(labels):
        raise CheckpointError(f"{path}: {role} labels {checkpoint['labels']} differ from the data's labels")
    theirs = frontend_of(checkpoint)
    if theirs.digest() != frontend.digest():
        raise CheckpointError(f"{path}: {role} was trained with frontend {theirs.name!r} ({theirs.digest()}), "
                              f"this run uses {frontend.name!r} ({frontend.digest()}); use the same --frontend")
    if list(checkpoint["input_shape"]) != list(input_shape):
        raise CheckpointError(f"{path}: {role} input {checkpoint['input_shape']} differs from the data's "
                              f"{list(input_shape)} (different clip duration)")


def model_from_checkpoint(checkpoint: dict, path: str | Path = "checkpoint") -> BCResNetMod:
    """Rebuild the model and load its weights (eval mode); a mismatch is a :class:`CheckpointError`."""
    try:
        config = ModelConfig.from_dict(checkpoint["model_config"])
        model = BCResNetMod(config)
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise CheckpointError(f"{path}: weights do not match the model config it names ({first})") from exc
    return model.eval()
