"""An independent checker of the TAU Urban Acoustic Scenes 2020 Mobile development layout.

Written from the layout description alone (``csv`` and regular expressions); it shares no code with
``asc_edge.data.tau`` so that a bug in the reader cannot hide the same bug in the generator.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

TAU_SCENES = {"airport", "bus", "metro", "metro_station", "park", "public_square", "shopping_mall",
              "street_pedestrian", "street_traffic", "tram"}
TAU_DEVICES = {"a", "b", "c", "s1", "s2", "s3", "s4", "s5", "s6"}
TEST_ONLY_DEVICES = {"s4", "s5", "s6"}
NAME = re.compile(r"^audio/(?P<scene>[a-z_]+)-(?P<city>[a-z]+)-(?P<location>\d+)-(?P<segment>\d+)-"
                  r"(?P<device>a|b|c|s[1-6])\.wav$")


def _rows(path: Path, header: list[str]) -> list[list[str]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows and rows[0] == header, f"{path.name}: header {rows[:1]} != {header}"
    assert all(len(r) == len(header) for r in rows[1:]), f"{path.name}: ragged rows"
    return rows[1:]


def check_tau_layout(root: Path) -> list[str]:
    """Return a list of problems (empty when the folder follows the layout)."""
    problems: list[str] = []
    meta = _rows(root / "meta.csv", ["filename", "scene_label", "identifier", "source_label"])
    train = _rows(root / "evaluation_setup" / "fold1_train.csv", ["filename", "scene_label"])
    evaluate = _rows(root / "evaluation_setup" / "fold1_evaluate.csv", ["filename", "scene_label"])
    test = _rows(root / "evaluation_setup" / "fold1_test.csv", ["filename"])
    info = {}
    for filename, scene, identifier, device in meta:
        m = NAME.match(filename)
        if not m:
            problems.append(f"bad file name {filename}")
            continue
        if m["scene"] != scene or scene not in TAU_SCENES:
            problems.append(f"{filename}: scene {scene}")
        if m["device"] != device or device not in TAU_DEVICES:
            problems.append(f"{filename}: device {device}")
        if identifier != f"{m['city']}-{m['location']}":
            problems.append(f"{filename}: identifier {identifier}")
        if not (root / filename).is_file():
            problems.append(f"{filename}: missing audio")
        info[filename] = m
    audio_files = {f"audio/{p.name}" for p in (root / "audio").iterdir()}
    if audio_files != set(info):
        problems.append(f"audio/ and meta.csv disagree on {len(audio_files ^ set(info))} files")
    train_names = {r[0] for r in train}
    evaluate_names = {r[0] for r in evaluate}
    if train_names & evaluate_names:
        problems.append("a file is in both folds")
    if {r[0] for r in test} != evaluate_names:
        problems.append("fold1_test.csv does not list exactly the evaluate files")
    for name in train_names | evaluate_names:
        if name not in info:
            problems.append(f"split lists unknown file {name}")
    train_devices = {info[n]["device"] for n in train_names if n in info}
    evaluate_devices = {info[n]["device"] for n in evaluate_names if n in info}
    if train_devices & TEST_ONLY_DEVICES:
        problems.append(f"unseen devices in the train fold: {train_devices & TEST_ONLY_DEVICES}")
    if evaluate_devices != TAU_DEVICES:
        problems.append(f"evaluate fold devices {sorted(evaluate_devices)} are not all nine")
    train_locations = {info[n]["location"] for n in train_names if n in info}
    evaluate_locations = {info[n]["location"] for n in evaluate_names if n in info}
    if train_locations & evaluate_locations:
        problems.append(f"locations shared between folds: {sorted(train_locations & evaluate_locations)[:5]}")
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in info.values():
        groups[(m["city"] + "-" + m["location"], m["segment"])].add(m["device"])
    parallel = [devices for devices in groups.values() if len(devices) > 1]
    if not parallel:
        problems.append("no parallel recordings (same identifier and segment, several devices)")
    if any("a" not in devices for devices in parallel):
        problems.append("a parallel group lacks the reference device a")
    return problems
