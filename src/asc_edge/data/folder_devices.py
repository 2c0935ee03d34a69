"""``DIR/devices.csv`` of a folder-per-label tree: which device recorded which file (optional, may be partial).

    file,device
    kitchen/monday.wav,pi-usb-mic
    office/call.flac,phone

``file`` is the recording's path relative to DIR. A file it does not name has the device ``unknown``.
"""

from __future__ import annotations

from pathlib import Path

from asc_edge.data.csv_table import read_rows
from asc_edge.plumbing.errors import DataError

DEVICES_CSV = "devices.csv"
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
