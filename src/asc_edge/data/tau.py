"""Reader for the TAU Urban Acoustic Scenes 2020 Mobile development layout.

    ROOT/meta.csv                          filename  scene_label  identifier  source_label   (tab-separated)
    ROOT/audio/<scene>-<city>-<location>-<segment>-<device>.wav
    ROOT/evaluation_setup/fold1_train.csv     filename  scene_label
    ROOT/evaluation_setup/fold1_evaluate.csv  filename  scene_label
    ROOT/evaluation_setup/fold1_test.csv      filename

Every problem is reported as a :class:`DataError` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from asc_edge.audio.labels import DEVICES, SCENES, SEEN_DEVICES, UNSEEN_DEVICES
from asc_edge.plumbing.errors import DataError

META_COLUMNS = ("filename", "scene_label", "identifier", "source_label")
SPLIT_COLUMNS = ("filename", "scene_label")
TRAIN_CSV = "evaluation_setup/fold1_train.csv"
EVALUATE_CSV = "evaluation_setup/fold1_evaluate.csv"
TEST_CSV = "evaluation_setup/fold1_test.csv"


@dataclass(frozen=True)
class Clip:
    """One recording: ``audio/<scene>-<city>-<location>-<segment>-<device>.wav``."""

    filename: str
    scene: str
    city: str
    location: str
    segment: str
    device: str

    @property
    def identifier(self) -> str:
        """``<city>-<location>``: the recording location, shared by all devices that recorded it."""
        return f"{self.city}-{self.location}"

    @property
    def parallel_key(self) -> tuple[str, str]:
        """Clips with the same key are the same time segment recorded by different devices."""
        return (self.identifier, self.segment)


def parse_filename(filename: str) -> Clip:
    """Split a TAU file name into its fields; ValueError when it does not follow the pattern."""
    name = filename.rsplit("/", 1)[-1]
    if not name.endswith(".wav"):
        raise ValueError("file name must end in .wav")
    parts = name[:-4].split("-")
    if len(parts) != 5 or not all(parts):
        raise ValueError("file name must be <scene>-<city>-<location>-<segment>-<device>.wav")
    scene, city, location, segment, device = parts
    return Clip(filename=filename, scene=scene, city=city, location=location, segment=segment, device=device)


def _read_table(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DataError(f"{path}: missing (expected the TAU Urban Acoustic Scenes 2020 Mobile layout)")
    try:
        # utf-8-sig: a table saved by a spreadsheet starts with a byte-order mark, which is not part of the
        # first column's name. surrogateescape: a file name that is not UTF-8 is kept as the bytes the file
        # system has, so ``root / filename`` still opens that file.
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(f"{path}: header lacks column(s) {', '.join(missing)} "
                                f"(found {', '.join(header) or 'nothing'}; the file must be tab-separated)")
            rows = []
            for row in reader:
                if any(row.get(c) in (None, "") for c in columns):
                    raise DataError(f"{path} line {reader.line_num}: empty or missing field")
                rows.append((reader.line_num, row))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text table ({exc.reason})") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from exc
    return rows


class TauDataset:
    """A TAU-layout folder: every clip from ``meta.csv`` plus the fold1 splits."""

    layout = "tau"
    labels: tuple[str, ...] = SCENES
    seen_devices: tuple[str, ...] = SEEN_DEVICES
    unseen_devices: tuple[str, ...] = UNSEEN_DEVICES

    def __init__(self, root: Path, clips: tuple[Clip, ...], train: tuple[Clip, ...],
                 evaluate: tuple[Clip, ...]) -> None:
        self.root = root
        self.clips = clips
        self.train = train
        self.evaluate = evaluate

    def path(self, clip: Clip) -> Path:
        return self.root / clip.filename

    def parallel_groups(self, clips: tuple[Clip, ...] | None = None) -> dict[tuple[str, str], dict[str, Clip]]:
        """Same identifier and segment recorded by two or more devices: ``{key: {device: clip}}``."""
        groups: dict[tuple[str, str], dict[str, Clip]] = defaultdict(dict)
        for clip in self.clips if clips is None else clips:
            groups[clip.parallel_key][clip.device] = clip
        return {key: devices for key, devices in groups.items() if len(devices) > 1}

    def devices(self, clips: tuple[Clip, ...]) -> list[str]:
        present = {c.device for c in clips}
        return [d for d in DEVICES if d in present]

    def record(self) -> dict:
        """What a checkpoint keeps about the layout (the fold1 lists are the split)."""
        return {"layout": self.layout}

    def summary_lines(self) -> list[str]:
        return [f"data: TAU Urban Acoustic Scenes 2020 Mobile layout ({self.root}, meta.csv): {len(self.clips)} "
                f"clips, fold1 train {len(self.train)}, evaluate {len(self.evaluate)}"]


def _parse_meta(root: Path) -> dict[str, Clip]:
    meta_path = root / "meta.csv"
    clips: dict[str, Clip] = {}
    for line, row in _read_table(meta_path, META_COLUMNS):
        where = f"{meta_path} line {line}"
        filename = row["filename"]
        try:
            clip = parse_filename(filename)
        except ValueError as exc:
            raise DataError(f"{where}: {filename!r}: {exc}") from None
        if not filename.startswith("audio/"):
            raise DataError(f"{where}: {filename!r} is not under audio/")
        if row["source_label"] not in DEVICES:
            raise DataError(f"{where}: unknown device {row['source_label']!r} (known: {', '.join(DEVICES)})")
        if row["source_label"] != clip.device:
            raise DataError(f"{where}: source_label {row['source_label']!r} differs from the file name's "
                            f"device {clip.device!r}")
        if row["scene_label"] not in SCENES:
            raise DataError(f"{where}: unknown scene {row['scene_label']!r}")
        if row["scene_label"] != clip.scene:
            raise DataError(f"{where}: scene_label {row['scene_label']!r} differs from the file name's "
                            f"scene {clip.scene!r}")
        if row["identifier"] != clip.identifier:
            raise DataError(f"{where}: identifier {row['identifier']!r} differs from the file name's "
                            f"{clip.identifier!r}")
        if filename in clips:
            raise DataError(f"{where}: {filename!r} is listed twice")
        clips[filename] = clip
    if not clips:
        raise DataError(f"{meta_path}: lists no clips")
    return clips


def _parse_split(root: Path, relpath: str, clips: dict[str, Clip]) -> tuple[Clip, ...]:
    path = root / relpath
    chosen = []
    first_line: dict[str, int] = {}
    for line, row in _read_table(path, SPLIT_COLUMNS):
        clip = clips.get(row["filename"])
        if clip is None:
            raise DataError(f"{path} line {line}: {row['filename']!r} is not in meta.csv")
        if clip.filename in first_line:  # the clip would count twice in training or in the metrics
            raise DataError(f"{path} line {line}: {clip.filename!r} is listed twice (first on line "
                            f"{first_line[clip.filename]}); remove the duplicate row")
        first_line[clip.filename] = line
        if row["scene_label"] != clip.scene:
            raise DataError(f"{path} line {line}: label {row['scene_label']!r} contradicts meta.csv "
                            f"({clip.scene!r})")
        chosen.append(clip)
    return tuple(chosen)


def load_tau(root: str | Path, check_files: bool = True) -> TauDataset:
    """Read and validate a TAU-layout folder (``check_files``: every listed audio file must exist)."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected a TAU-layout dataset folder)")
    clips = _parse_meta(root)
    if check_files:
        absent = [name for name in clips if not (root / name).is_file()]
        if absent:
            more = f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""
            raise DataError(f"{root / 'meta.csv'}: lists {absent[0]!r}, which does not exist{more}")
    train = _parse_split(root, TRAIN_CSV, clips)
    evaluate = _parse_split(root, EVALUATE_CSV, clips)
    overlap = {c.filename for c in train} & {c.filename for c in evaluate}
    if overlap:
        raise DataError(f"{root / EVALUATE_CSV}: {len(overlap)} file(s) are also in {TRAIN_CSV}, "
                        f"e.g. {sorted(overlap)[0]!r}")
    return TauDataset(root=root, clips=tuple(clips.values()), train=train, evaluate=evaluate)


def read_split_table(root: Path, path: Path, dataset: TauDataset) -> tuple[Clip, ...]:
    """The clips of a split table in the fold1 tables' format (``filename``, ``scene_label``, tab-separated), each
    checked against ``dataset``'s meta.csv, e.g. ``asc-eval --split`` with a fold of one's own."""
    return _parse_split(root, str(path.absolute()), {c.filename: c for c in dataset.clips})
