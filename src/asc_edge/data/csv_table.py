"""The comma-separated tables of a folder per label (``devices.csv``, a ``--split`` file): read with their header
checked, each problem one DataError naming the file."""

from __future__ import annotations

import csv
from pathlib import Path

from asc_edge.plumbing.errors import DataError


def read_rows(path: Path, columns: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of every data row, fields stripped; the header must hold ``columns``; ``optional``
    columns are read when the header has them (else absent from the rows)."""
    try:
        # utf-8-sig: a table saved by a spreadsheet starts with a byte-order mark
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: header lacks column(s) {', '.join(missing)} (expected "
                                f"'{','.join(columns)}')")
            present = columns + tuple(c for c in optional if c in (reader.fieldnames or []))
            return [(reader.line_num, {c: (row.get(c) or "").strip() for c in present}) for row in reader]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text table ({exc.reason})") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from exc
