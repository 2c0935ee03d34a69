"""What ``asc-eval`` scores: the labelled recordings of a data folder, each with its device, mapped onto the
model's labels.

A TAU-layout folder (it has ``meta.csv``) gives its fold1 evaluate split by default (``--subset train|all``, or
``--split TABLE`` in the fold1 tables' own format). A folder per label gives every recording by default; with
``--split FILE.csv`` (``file,subset``, e.g. the split a training run wrote) its evaluate subset (``--subset``).
No audio is opened here: a file that cannot be read is the scorer's to count and name.

Seen vs unseen devices are known where the data says: TAU's design (``s4``-``s6`` never in its training split),
or a folder's split file (a device with no recording in its train subset is unseen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asc_edge.audio.labels import SEEN_DEVICES, UNSEEN_DEVICES
from asc_edge.data.folder_devices import UNKNOWN_DEVICE
from asc_edge.data.folder_split import read_split_csv
from asc_edge.data.folders import BACKGROUND_FOLDER, Recording, list_folders
from asc_edge.data.tau import EVALUATE_CSV, TRAIN_CSV, load_tau, read_split_table
from asc_edge.plumbing.errors import ConfigError, DataError

SUBSETS = ("evaluate", "train", "all")
TAU_MARKER = "meta.csv"  # as data/layout.py detects a TAU folder (that module pulls the training-side options)


@dataclass(frozen=True)
class Item:
    """One recording to score: its file, its name as printed (relative to DATA), true label, device."""

    path: Path
    name: str
    label: str
    device: str


@dataclass
class EvalData:
    """The recordings to score and how they were chosen (said in the report)."""

    root: Path
    layout: str  # "tau" or "folders"
    subset: str  # what was chosen, in words
    items: list[Item]
    seen_devices: tuple[str, ...] = ()
    unseen_devices: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)  # what was left out, counted
    label_map: dict[str, str] = field(default_factory=dict)

    @property
    def devices_known(self) -> bool:
        return any(item.device != UNKNOWN_DEVICE for item in self.items)


def parse_label_map(pairs: Sequence[str]) -> dict[str, str]:
    """``--map old=new`` pairs as ``{old: new}``; a malformed or repeated pair is one ConfigError."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ConfigError(f"--map {pair!r}: give OLD=NEW (a label of the data = a label of the model)")
        if old.strip() in mapping:
            raise ConfigError(f"--map {old.strip()!r} is given twice")
        mapping[old.strip()] = new.strip()
    return mapping


def load_eval_data(root: str | Path, split: str | None = None, subset: str | None = None,
                   background: str = BACKGROUND_FOLDER, device_folders: bool = False) -> EvalData:
    """The recordings of ``root`` to score (see the module's docstring for the choice); DataError/ConfigError
    with one line for a missing folder or a bad split."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected a folder per label or a TAU-layout folder)")
    if subset is not None and subset not in SUBSETS:
        raise ConfigError(f"--subset {subset!r}: one of {', '.join(SUBSETS)}")
    if (root / TAU_MARKER).exists():
        return _tau(root, split, subset or "evaluate")
    return _folders(root, split, subset, background, device_folders)


def _tau(root: Path, split: str | None, subset: str) -> EvalData:
    # check_files=False: a listed file that is missing is counted and named by the scorer, the rest still scored
    data = load_tau(root, check_files=False)
    if split is not None:
        clips, chosen = read_split_table(root, Path(split), data), f"the clips of {split}"
    elif subset == "all":
        clips, chosen = data.clips, "every clip of meta.csv"
    else:
        clips = data.evaluate if subset == "evaluate" else data.train
        chosen = EVALUATE_CSV if subset == "evaluate" else TRAIN_CSV
    items = [Item(root / c.filename, c.filename, c.scene, c.device) for c in clips]
    return EvalData(root, "tau", chosen, items, seen_devices=SEEN_DEVICES, unseen_devices=UNSEEN_DEVICES)


def _folders(root: Path, split: str | None, subset: str | None, background: str,
             device_folders: bool) -> EvalData:
    listing = list_folders(root, background, device_folders)
    named = [(path, path.relative_to(root).as_posix(), label) for path, label in listing.files]
    skipped = {"folders starting with _ or . (not labels)": listing.skipped_folders,
               "non-audio files": listing.skipped_not_audio}
    if split is None:
        if subset not in (None, "all"):
            raise ConfigError(f"--subset {subset}: a folder per label has no split of its own; give --split "
                              "FILE.csv (file,subset: e.g. the split file a training run wrote)")
        chosen, wanted = "every recording", None
        assignment: dict[str, str] = {}
    else:
        # read_split_csv checks every name against the folder; lengths are not needed to check names
        assignment = read_split_csv(split, [Recording(name, label, UNKNOWN_DEVICE, 0) for _, name, label in named])
        wanted = subset or "evaluate"
        chosen = f"{wanted} subset of {split}" if wanted != "all" else f"every recording named in {split}"
    items = [Item(path, name, label, listing.devices.get(name, UNKNOWN_DEVICE)) for path, name, label in named
             if wanted is None or (name in assignment and wanted in ("all", assignment[name]))]
    if wanted is not None:
        skipped["recordings outside the chosen subset"] = len(named) - len(items)
    if not items:
        raise DataError(f"{root}: no recording is in the {chosen}")
    seen: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()
    if assignment:  # the split says which devices training heard
        trained = {listing.devices.get(n, UNKNOWN_DEVICE) for n, s in assignment.items() if s == "train"}
        known = sorted({i.device for i in items} - {UNKNOWN_DEVICE})
        seen = tuple(d for d in known if d in trained)
        unseen = tuple(d for d in known if d not in trained)
    return EvalData(root, "folders", chosen, items, seen, unseen, {k: v for k, v in skipped.items() if v})


def map_labels(data: EvalData, mapping: dict[str, str], model_labels: Sequence[str]) -> EvalData:
    """``data`` with its labels renamed by ``mapping``; a label of the data that the model lacks (after the
    mapping), or a mapping of a label the data does not have, is one DataError naming them."""
    present = sorted({item.label for item in data.items})
    stray = [old for old in mapping if old not in present]
    if stray:
        raise DataError(f"--map {stray[0]}=...: the data has no label {stray[0]!r} (its labels: "
                        f"{', '.join(present)})")
    renamed = [Item(i.path, i.name, mapping.get(i.label, i.label), i.device) for i in data.items]
    lacking = sorted({i.label for i in renamed} - set(model_labels))
    if lacking:
        raise DataError(f"{data.root}: label(s) {', '.join(lacking)} of the data are not the model's "
                        f"({', '.join(model_labels)}); rename with --map OLD=NEW or leave those folders out")
    return EvalData(data.root, data.layout, data.subset, renamed, data.seen_devices, data.unseen_devices,
                    data.skipped, dict(mapping))
