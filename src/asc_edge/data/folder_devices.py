"""``DIR/devices.csv`` of a folder-per-label tree: which device recorded which file (optional, may be partial).

    file,device
    kitchen/monday.wav,pi-usb-mic
    office/call.flac,phone

``file`` is the recording's path relative to DIR. A file it does not name has the device ``unknown``.
"""

from __future__ import annotations

import csv
from pathlib import Path

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
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: header lacks column(s) {', '.join(missing)} (expected 'file,device')")
            for row in reader:
                where = f"{path} line {reader.line_num}"
                name, device = (row.get("file") or "").strip(), (row.get("device") or "").strip()
                if not name or not device:
                    raise DataError(f"{where}: empty file or device")
                if name not in recordings:
                    raise DataError(f"{where}: {name!r} is not an audio file of {root} (paths are relative to it)")
                if name in devices:
                    raise DataError(f"{where}: {name!r} is listed twice")
                if not device.isprintable():
                    raise DataError(f"{where}: device {device!r} holds a control character")
                devices[name] = device
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text table ({exc.reason})") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from exc
    return devices
