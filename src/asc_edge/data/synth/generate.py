"""Plan, render and write an asc-synth dataset in the TAU 2020 Mobile development layout.

Per scene, ``clips_per_class`` time segments are spread over several recording locations (each in one of
several cities). About 30 % of the locations form the evaluate fold, the rest the train fold, so no
location is shared between folds. Device ``a`` records every train segment; each other seen device
(b, c, s1..s3) records a random tenth of them in parallel with ``a`` (TAU's ~10:1 imbalance). Every
evaluate segment is recorded by all nine devices, so the evaluate fold is balanced per device and
s4..s6 are never seen in training. Everything is a pure function of ``seed``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asc_edge.audio.labels import DEVICES, REFERENCE_DEVICE, SCENES, SEEN_DEVICES
from asc_edge.data.progress import Progress
from asc_edge.data.synth.devices import DEVICE_CHAINS
from asc_edge.data.synth.scenes import RECIPES, LocationDraw, render_segment
from asc_edge.data.tau import EVALUATE_CSV, TEST_CSV, TRAIN_CSV
from asc_edge.data.workers import die_with_parent
from asc_edge.plumbing.errors import DataError
from asc_edge.plumbing.output_paths import dir_mode, no_world_write, partial_prefix, remove_stale_partials

CITIES = ("amsterdam", "barcelona", "helsinki", "lisbon", "london", "lyon", "milan", "paris", "prague",
          "vienna")
EVALUATE_LOCATION_FRACTION = 0.3
SECONDARY_DEVICE_FRACTION = 0.1
INFO_FILE = "asc_synth.json"


@dataclass(frozen=True)
class SegmentPlan:
    scene: str
    city: str
    location: int
    location_index: int
    segment: int
    fold: str  # "train" or "evaluate"
    devices: tuple[str, ...]

    def filename(self, device: str) -> str:
        return f"audio/{self.scene}-{self.city}-{self.location}-{self.segment}-{device}.wav"


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def plan_dataset(clips_per_class: int, seed: int) -> list[SegmentPlan]:
    """Which segment is recorded where, when, by which devices, and in which fold."""
    if clips_per_class < 4:
        raise DataError("--clips-per-class must be at least 4 (a train and an evaluate location per scene)")
    plans = []
    n_locations = int(np.clip(round(clips_per_class / 5), 4, 24))
    n_evaluate = max(1, int(round(EVALUATE_LOCATION_FRACTION * n_locations)))
    for s, scene in enumerate(SCENES):
        rng = _rng(seed, 1, s)
        order = rng.permutation(n_locations)
        evaluate_locations = set(order[:n_evaluate].tolist())
        segments = [(k % n_locations, k // n_locations) for k in range(clips_per_class)]
        train = [seg for seg in segments if seg[0] not in evaluate_locations]
        n_secondary = max(1, int(round(SECONDARY_DEVICE_FRACTION * len(train))))
        extra: dict[tuple[int, int], list[str]] = {seg: [] for seg in train}
        for device in SEEN_DEVICES:
            if device == REFERENCE_DEVICE:
                continue
            for i in rng.choice(len(train), size=min(n_secondary, len(train)), replace=False):
                extra[train[i]].append(device)
        for loc, seg in segments:
            in_eval = loc in evaluate_locations
            devices = DEVICES if in_eval else (REFERENCE_DEVICE, *sorted(extra[(loc, seg)], key=DEVICES.index))
            plans.append(SegmentPlan(scene=scene, city=CITIES[(3 * s + loc) % len(CITIES)],
                                     location=100 * (s + 1) + loc, location_index=loc, segment=seg,
                                     fold="evaluate" if in_eval else "train", devices=tuple(devices)))
    return plans


def _render(job: tuple[SegmentPlan, str, float, int, int]) -> list[str]:
    plan, out_dir, duration, sample_rate, seed = job
    import soundfile

    s = SCENES.index(plan.scene)
    location = LocationDraw(RECIPES[plan.scene], _rng(seed, 2, s, plan.location_index))
    city_tilt = _rng(seed, 3, CITIES.index(plan.city)).uniform(-1.0, 1.0)
    source = render_segment(location, city_tilt, duration, sample_rate,
                            _rng(seed, 4, s, plan.location_index, plan.segment))
    written = []
    for device in plan.devices:
        chain = DEVICE_CHAINS[device]
        rng = _rng(seed, 5, s, plan.location_index, plan.segment, DEVICES.index(device))
        audio = chain.record(source, sample_rate, rng)
        name = plan.filename(device)
        soundfile.write(os.path.join(out_dir, name), audio.astype(np.float32), sample_rate, subtype="PCM_16")
        written.append(name)
    return written


def _write_tables(folder: Path, plans: list[SegmentPlan]) -> None:
    rows = sorted((p.filename(d), p) for p in plans for d in p.devices)
    with (folder / "meta.csv").open("w") as f:
        f.write("filename\tscene_label\tidentifier\tsource_label\n")
        for name, p in rows:
            device = name[:-4].rsplit("-", 1)[1]
            f.write(f"{name}\t{p.scene}\t{p.city}-{p.location}\t{device}\n")
    setup = folder / "evaluation_setup"
    setup.mkdir()
    with (folder / TRAIN_CSV).open("w") as train, (folder / EVALUATE_CSV).open("w") as evaluate, \
            (folder / TEST_CSV).open("w") as test:
        train.write("filename\tscene_label\n")
        evaluate.write("filename\tscene_label\n")
        test.write("filename\n")
        for name, p in rows:
            if p.fold == "train":
                train.write(f"{name}\t{p.scene}\n")
            else:
                evaluate.write(f"{name}\t{p.scene}\n")
                test.write(f"{name}\n")


def prepare_target(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty target unless ``overwrite``; fail early on an unwritable parent."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise DataError(f"{out_dir}: folder is not empty; pass --overwrite to replace it")
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)  # like `mkdir -p`: data/synth works without data/
    except OSError as exc:
        raise DataError(f"{parent}: cannot create the parent folder ({exc.strerror})") from exc
    if not os.access(parent, os.W_OK):
        raise DataError(f"{parent}: not writable")


def generate_dataset(out_dir: str | Path, clips_per_class: int = 40, duration: float = 10.0,
                     sample_rate: int = 44100, seed: int = 0, overwrite: bool = False,
                     workers: int | None = None, progress: bool = True) -> dict:
    """Write the dataset to ``out_dir`` (via a temporary folder renamed on success); returns a summary."""
    out_dir = Path(out_dir)
    if seed < 0:
        raise DataError(f"--seed must be at least 0, got {seed}")
    if not 0 < duration <= 600:  # written so that NaN fails too
        raise DataError(f"--duration must be in (0, 600] seconds, got {duration:g}")
    if not 8000 <= sample_rate <= 192000:
        raise DataError(f"--sample-rate must be in 8000..192000 Hz, got {sample_rate}")
    prepare_target(out_dir, overwrite)
    plans = plan_dataset(clips_per_class, seed)
    remove_stale_partials(out_dir.resolve().parent, out_dir.name)  # what a killed run left
    tmp = Path(tempfile.mkdtemp(prefix=partial_prefix(out_dir.name), dir=out_dir.resolve().parent))
    try:
        os.chmod(tmp, dir_mode())  # mkdtemp makes 0700; a data set is shared as the umask allows
        (tmp / "audio").mkdir()
        jobs = [(p, str(tmp), duration, sample_rate, seed) for p in plans]
        n_clips = sum(len(p.devices) for p in plans)
        workers = workers or os.cpu_count() or 1
        with Progress(n_clips, "asc-synth", enabled=progress) as bar:
            if workers > 1:
                with ProcessPoolExecutor(max_workers=workers, **die_with_parent()) as pool:
                    for written in pool.map(_render, jobs, chunksize=4):
                        bar.advance(len(written))
            else:
                for job in jobs:
                    bar.advance(len(_render(job)))
        _write_tables(tmp, plans)
        summary = summarize(plans)
        info = {"generator": "asc-synth", "clips_per_class": clips_per_class, "duration": duration,
                "sample_rate": sample_rate, "seed": seed, **summary}
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
        no_world_write(tmp)
        if out_dir.exists():
            trash = Path(tempfile.mkdtemp(prefix=partial_prefix(out_dir.name), dir=out_dir.resolve().parent))
            os.replace(out_dir, trash / "old")
            os.replace(tmp, out_dir)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def summarize(plans: list[SegmentPlan]) -> dict:
    counts: dict[str, dict[str, int]] = {"train": {}, "evaluate": {}}
    for p in plans:
        for d in p.devices:
            counts[p.fold][d] = counts[p.fold].get(d, 0) + 1
    order = {d: i for i, d in enumerate(DEVICES)}
    return {"clips": sum(sum(c.values()) for c in counts.values()),
            "clips_per_device": {fold: dict(sorted(c.items(), key=lambda kv: order[kv[0]]))
                                 for fold, c in counts.items()}}
