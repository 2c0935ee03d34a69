"""Which device recorded which file of a folder-per-label tree: optional, given one of two ways.

``DIR/devices.csv`` (may be partial; a file it does not name has the device ``unknown``)::

    file,device
    kitchen/monday.wav,pi-usb-mic
    office/call.flac,phone

``file`` is the recording's path relative to DIR. Or, with ``--device-folders``, the folder level below each
label names the device: ``DIR/<label>/<device>/**/*.wav`` (every file must then lie in such a folder).
"""

from __future__ import annotations

from pathlib import Path

from asc_edge.data.csv_table import read_rows
from asc_edge.plumbing.errors import DataError

DEVICES_CSV = "devices.csv"
DEVICE_FOLDERS = "the folder below each label"
UNKNOWN_DEVICE = "unknown"
COLUMNS = ("file", "device")


def read_devices_csv(root: Path, recordings: set[str]) -> dict[str, str]:
    """``{recording: device}`` from ``root/devices.csv`` (empty without one); a bad row is one DataError."""
    path = root / DEVICES_CSV
    if not path.is_file():
        return {}
    devices: dict[str, str] = {}
    for line, row in read_rows(path, COLUMNS):
        where = f"{path} line {line}"
        name, device = row["file"], row["device"]
        if not name or not device:
            raise DataError(f"{where}: empty file or device")
        if name not in recordings:
            raise DataError(f"{where}: {name!r} is not an audio file of {root} (paths are relative to it)")
        if name in devices:
            raise DataError(f"{where}: {name!r} is listed twice")
        if not device.isprintable():
            raise DataError(f"{where}: device {device!r} holds a control character")
        devices[name] = device
    return devices


def devices_from_folders(root: Path, recordings: set[str]) -> dict[str, str]:
    """``{recording: device}`` from ``<label>/<device>/...``; a file directly in its label folder, or a
    devices.csv beside the option, is one DataError (two sources could disagree)."""
    if (root / DEVICES_CSV).is_file():
        raise DataError(f"{root / DEVICES_CSV}: devices are given twice (this file and --device-folders); "
                        "keep one of them")
    devices: dict[str, str] = {}
    for name in sorted(recordings):
        parts = name.split("/")
        if len(parts) < 3:
            raise DataError(f"{root / name}: lies directly in its label folder, but --device-folders reads the "
                            f"folder below each label as the device ({root}/<label>/<device>/...)")
        if not parts[1].isprintable():
            raise DataError(f"{root / name}: the device folder's name holds a control character")
        devices[name] = parts[1]
    return devices
