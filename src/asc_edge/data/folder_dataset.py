"""A folder-per-label tree as a data set: labels, recordings cut into window clips, the leak-free split, the
counts said at start (per label, with a warning for a label with few recordings)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from asc_edge.data.folder_devices import UNKNOWN_DEVICE
from asc_edge.data.folder_split import DEFAULT_EVALUATE_SHARE, check_split, read_split_csv, seeded_split
from asc_edge.data.folders import BACKGROUND_FOLDER, Scan, WindowClip, scan_folders, windows_of
from asc_edge.data.groups import DEFAULT_GROUP_RULE
from asc_edge.plumbing.errors import DataError

LAYOUT = "folders"
DEFAULT_WINDOW_S = 5.0  # the main job's window (asc-synth's 5 s clips)
DEFAULT_MIN_RECORDINGS = 5


@dataclass(frozen=True)
class FolderOptions:
    """How a folder per label becomes clips and a split (recorded in the checkpoint, reused by the export)."""

    window_s: float = DEFAULT_WINDOW_S
    hop_s: float | None = None  # None: the window (clips do not overlap)
    split: str | None = None  # a user's split CSV (file,subset)
    split_seed: int = 0
    evaluate_share: float = DEFAULT_EVALUATE_SHARE
    background: str = BACKGROUND_FOLDER
    min_recordings: int = DEFAULT_MIN_RECORDINGS
    device_folders: bool = False  # the folder below each label names the device (else DATA/devices.csv)
    group_by: str = DEFAULT_GROUP_RULE  # which recordings stay together in a split (data/groups.py)
    recorded_split: dict = field(default_factory=dict)  # a checkpoint's split: the export's and --resume's

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> FolderOptions:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


class FolderDataset:
    """The clips of every recording named by the split, and the two subsets."""

    layout = LAYOUT

    def __init__(self, root: Path, scan: Scan, split: dict[str, str], split_source: str, options: FolderOptions,
                 sample_rate: int) -> None:
        self.root, self.scan, self.split, self.split_source, self.options = root, scan, split, split_source, options
        self.labels = scan.labels
        self.window = round(options.window_s * sample_rate)
        self.hop = round((options.hop_s or options.window_s) * sample_rate)
        recordings = [r for r in scan.recordings if r.name in split]
        self.left_out = len(scan.recordings) - len(recordings)
        self.clips: tuple[WindowClip, ...] = tuple(c for r in recordings for c in windows_of(r, self.window, self.hop))
        self.train = tuple(c for c in self.clips if split[c.recording] == "train")
        self.evaluate = tuple(c for c in self.clips if split[c.recording] == "evaluate")
        known = [d for d in dict.fromkeys(c.device for c in self.clips) if d != UNKNOWN_DEVICE]
        trained = {c.device for c in self.train}
        self.seen_devices = tuple(sorted(d for d in known if d in trained))
        self.unseen_devices = tuple(sorted(d for d in known if d not in trained))

    def path(self, clip: WindowClip) -> Path:
        return self.root / clip.recording

    def parallel_groups(self, clips: tuple | None = None) -> dict:
        """Parallel recordings (one moment, several devices): a folder per label names none."""
        return {}

    def devices(self, clips: tuple[WindowClip, ...]) -> list[str]:
        return sorted({c.device for c in clips})

    def record(self) -> dict:
        """What a checkpoint keeps so that the export and a resumed run cut and split the folder the same way."""
        return {"layout": LAYOUT, "options": {**self.options.to_dict(), "split": None, "recorded_split": self.split}}

    def summary_lines(self) -> list[str]:
        """The start-of-run statement: the layout, the counts per label, what was skipped, the warnings."""
        o = self.options
        hop = o.hop_s or o.window_s
        skipped = [f"{n} {what} skipped" for n, what in ((self.scan.skipped_folders,
                                                           "folder(s) starting with _ or . (not labels)"),
                                                          (self.scan.skipped_not_audio, "non-audio file(s)"),
                                                          (self.scan.skipped_short, "recording(s) under 1 s"),
                                                          (self.left_out, "recording(s) not in the split"))
                   if n]
        lines = [f"data: a folder per label ({self.root}): {len(self.labels)} labels, "
                 f"{len(self.scan.recordings) - self.left_out} recordings -> {len(self.clips)} clips of "
                 f"{o.window_s:g} s every {hop:g} s (train {len(self.train)}, evaluate {len(self.evaluate)}); "
                 f"split {self.split_source}" + "".join(f"; {s}" for s in skipped)]
        recordings = Counter((c.scene, c.recording, self.split[c.recording]) for c in self.clips)
        for label in self.labels:
            clips = {s: sum(n for (lab, _, sub), n in recordings.items() if lab == label and sub == s)
                     for s in ("train", "evaluate")}
            files = {s: sum(1 for (lab, _, sub) in recordings if lab == label and sub == s)
                     for s in ("train", "evaluate")}
            lines.append(f"  {label}: train {clips['train']} clips / {files['train']} recordings, "
                         f"evaluate {clips['evaluate']} / {files['evaluate']}")
            if files["train"] + files["evaluate"] < o.min_recordings:
                lines.append(f"warning: label {label!r} has {files['train'] + files['evaluate']} recordings, fewer "
                             f"than {o.min_recordings}: its accuracy is measured on very little and the model "
                             "may not generalise; add recordings (or train with --balanced)")
        devices = sorted({c.device for c in self.clips} - {UNKNOWN_DEVICE})
        if devices:
            lines.append(f"  devices ({self.scan.device_source}): {', '.join(devices)}"
                         + (f"; unseen in training: {', '.join(self.unseen_devices)}" if self.unseen_devices else ""))
        else:
            lines.append("  devices: none known (no devices.csv, no --device-folders): the per-device report has "
                         "one 'unknown' row")
        return lines


def load_folders(root: Path, sample_rate: int, options: FolderOptions) -> FolderDataset:
    """Scan, split (recorded, given or seeded) and cut a folder-per-label tree."""
    if not options.window_s > 0 or not (options.hop_s is None or options.hop_s > 0):
        raise DataError("--window and --hop must be positive numbers of seconds")
    scan = scan_folders(root, sample_rate, options.background, options.device_folders)
    if options.recorded_split:
        split, source = dict(options.recorded_split), "as recorded in the checkpoint"
        known = {r.name for r in scan.recordings}
        gone = sorted(set(split) - known)
        if gone:
            raise DataError(f"{root}: the checkpoint's split names {gone[0]!r}, which is not a usable recording "
                            f"there{f' (and {len(gone) - 1} more)' if len(gone) > 1 else ''}")
    elif options.split:
        split, source = read_split_csv(options.split, scan.recordings, options.group_by), f"from {options.split}"
    else:
        split = seeded_split(scan.recordings, options.evaluate_share, options.split_seed, options.group_by)
        source = (f"by source group (--group-by {options.group_by}), seed {options.split_seed}, "
                  f"{100 * options.evaluate_share:g} % of each label's recordings evaluate")
    check_split(split, [r for r in scan.recordings if r.name in split], source)
    return FolderDataset(root, scan, split, source, options, sample_rate)
